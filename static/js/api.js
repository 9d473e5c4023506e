// Calls to the City Vibes REST API from the browser session (cookie auth + CSRF header).

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class NetworkError extends Error {}

/** JSON from an API path; throws NetworkError when the server cannot be reached (or answers
 * 5xx/429, which are worth retrying) and ApiError for other error answers. */
export async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(method !== "GET" ? { "X-CSRFToken": csrfToken() } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  if (response.status >= 500 || response.status === 429) {
    throw new NetworkError(`HTTP ${response.status}`);
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 || response.status === 403) {
      // The session ended (logged out in another tab): back to the start page.
      if (response.status === 401) window.location.assign("/");
    }
    throw new ApiError(response.status, data?.meta?.message ?? `HTTP ${response.status}`);
  }
  return data;
}

export function showBanner(visible) {
  const banner = document.getElementById("net-banner");
  if (banner) banner.hidden = !visible;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function clientState() {
  return JSON.parse(document.getElementById("client-state").textContent);
}
