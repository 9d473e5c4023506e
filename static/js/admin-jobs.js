// The admin's jobs page (templates/admin/ingest/jobs.html): refresh every count from the jobs
// API every 2 s, and send pause / resume / retry to the ingestion API instead of posting the
// page's forms (session cookie + the forms' CSRF token).

const POLL_MS = 2000;
const root = document.getElementById("jobs");

const csrfToken = () =>
  document.querySelector('#jobs input[name="csrfmiddlewaretoken"]')?.value ?? "";

async function call(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json", "X-CSRFToken": csrfToken() }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(data?.meta?.message ?? `HTTP ${response.status}`);
  return data;
}

const dash = (value) => (value === null || value === undefined ? "–" : String(value));

function eta(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds === 0) return "0 s";
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return minutes ? `${minutes} min ${rest} s` : `${rest} s`;
}

function row(header, cells, attributes = {}) {
  const tr = document.createElement("tr");
  for (const [name, value] of Object.entries(attributes)) tr.setAttribute(name, value);
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = header;
  tr.append(th);
  for (const cell of cells) {
    const td = document.createElement("td");
    if (typeof cell === "object") {
      td.colSpan = cell.span;
      td.textContent = cell.text;
    } else td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

function render(overview) {
  const queues = overview.queues.map((queue) =>
    row(
      queue.label,
      queue.available
        ? [dash(queue.active), queue.waiting, queue.failed, queue.done, queue.done_recent,
           queue.per_minute, eta(queue.eta_seconds)]
        : [{ span: 7, text: "not available yet" }],
      { "data-queue": queue.key },
    ),
  );
  document.getElementById("jobs-queues").replaceChildren(...queues);
  const pipeline = overview.queues.find((queue) => queue.key === "pipeline");
  const steps = (pipeline?.steps ?? []).map((step) =>
    row(step.name, [step.waiting, step.failed, step.done_recent, step.per_minute, eta(step.eta_seconds)],
      { "data-step": step.name }),
  );
  document.getElementById("jobs-steps").replaceChildren(...steps);
  const jobs = overview.queues.flatMap((queue) => queue.jobs).map((job) => {
    const progress = job.total !== null ? `${job.done} / ${job.total}`
      : job.progress !== null ? `${Math.round(100 * job.progress)} %` : "";
    return row(job.label, [job.status, progress, job.detail, eta(job.eta_seconds)]);
  });
  document.getElementById("jobs-running").replaceChildren(
    ...(jobs.length ? jobs : [row("None running or waiting.", [{ span: 4, text: "" }])]),
  );
  showSwitch(overview.paused);
  const time = new Date(overview.generated_at).toLocaleTimeString();
  document.getElementById("jobs-updated").textContent =
    `Counts as of ${time}; throughput over the last ${overview.window_minutes} minutes.`;
}

function showSwitch(paused) {
  const state = document.getElementById("jobs-switch");
  state.dataset.paused = String(paused);
  state.textContent = paused
    ? "Ingestion is paused: photos wait at their step."
    : "Ingestion is running.";
  const toggle = document.getElementById("jobs-toggle");
  if (toggle) {
    toggle.textContent = paused ? "Resume ingestion" : "Pause ingestion";
    toggle.form.elements.action.value = paused ? "resume" : "pause";
  }
}

function say(text) {
  const message = document.getElementById("jobs-message");
  if (message) message.textContent = text;
}

async function refresh() {
  try {
    render(await call(root.dataset.api));
  } catch (error) {
    say(`Could not refresh: ${error.message}`);
  }
}

async function act(action) {
  const body = action === "retry" ? { retry_failed: true } : { paused: action === "pause" };
  try {
    const state = await call(root.dataset.switchApi, body);
    const queued = state.queued === undefined ? "" : ` Queued ${state.queued} photos.`;
    say((action === "retry" ? "Retrying failed photos." : state.paused ? "Paused." : "Resumed.") + queued);
    showSwitch(state.paused);
    await refresh();
  } catch (error) {
    say(`Failed: ${error.message}`);
  }
}

if (root) {
  for (const form of root.querySelectorAll("form.jobs-action")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(form.elements.action.value);
    });
  }
  refresh();
  setInterval(refresh, POLL_MS);
}
