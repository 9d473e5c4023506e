// The results page: every ranked city with its match bar, the top ones with the liked photos
// that raised them most; and "reset my swipes".

import { api, NetworkError, showBanner, sleep } from "./api.js";
import { renderRanking } from "./ranking.js";

const container = document.getElementById("results-ranking");
const summary = document.getElementById("results-summary");
const more = document.getElementById("show-more");
const PAGE = 10;
let limit = PAGE;
// The number of cities in the catalog, from the API's `city_count`: the API refuses a larger
// limit. Unknown until the first answer, which asks for the API's default (10, or every city of
// a smaller catalog).
let cityCount = null;

async function load() {
  const query = cityCount === null ? "" : `limit=${limit}&`;
  for (let delay = 1000; ; delay = Math.min(delay * 2, 8000)) {
    try {
      const data = await api(`/api/v1/recommendations/?${query}reasons=3`);
      showBanner(false);
      return data;
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      showBanner(true);
      summary.textContent = "Can't reach City Vibes. Retrying…";
      await sleep(delay);
    }
  }
}

async function show() {
  const data = await load();
  cityCount = data.city_count;
  const count = data.swipe_count;
  summary.textContent = count
    ? `Ranked from your ${count} ${count === 1 ? "swipe" : "swipes"}. Match: 100 is your strongest city, 50 neutral.`
    : "No swipes yet.";
  renderRanking(container, data, {
    emptyText: "Swipe some photos first: your ranked cities appear here.",
  });
  more.hidden = count === 0 || data.results.length < limit || limit >= cityCount;
}

more.addEventListener("click", async () => {
  const firstNew = limit;
  limit = Math.min(limit + PAGE, cityCount);
  await show();
  container.querySelectorAll(".ranked-city")[firstNew]?.querySelector(".city-name")?.scrollIntoView({ block: "center" });
});

document.getElementById("reset-swipes").addEventListener("click", async () => {
  if (!window.confirm("Delete all your swipes and start over?")) return;
  await api("/api/v1/swipes/reset/", { method: "POST" });
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith("cityvibes-outbox-")) localStorage.removeItem(key);
  }
  await show();
});

show();
