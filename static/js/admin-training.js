// A training job's live page in the admin (templates/admin/ml/trainingjob/change_form.html):
// polls GET /api/v1/admin/training-jobs/<id>/ every 1.5 s until the job ends, and shows its
// phase, progress, epoch, throughput, time left and the loss and accuracy (or AUC) curves,
// drawn as SVG here (no inline script or style, under the site's CSP). Cancel posts to
// .../cancel/ with the CSRF header (api.js).

import { api, ApiError, sleep } from "./api.js";

const POLL_MS = 1500;
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const SVG = "http://www.w3.org/2000/svg";
const SIZE = { width: 420, height: 240, left: 64, right: 12, top: 12, bottom: 40 };

const panel = document.getElementById("training-live");

function field(name) {
  return panel.querySelector(`[data-field="${name}"]`);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  return minutes < 60 ? `${minutes} min ${s % 60} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function element(name, attributes = {}, text = "") {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text) node.textContent = text;
  return node;
}

/** Line chart of some series ({key, label, className}) of the history, epochs on x. */
function drawCurves(svg, history, series, yLabel) {
  svg.replaceChildren();
  const { width, height, left, right, top, bottom } = SIZE;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const points = series.map((s) => history.filter((row) => Number.isFinite(row[s.key])));
  const values = points.flatMap((rows, i) => rows.map((row) => row[series[i].key]));
  const epochs = Math.max(2, ...history.map((row) => row.epoch));
  let low = Math.min(0, ...values);
  let high = values.length ? Math.max(...values) : 1;
  if (high - low < 1e-9) high = low + 1;
  const x = (epoch) => left + ((epoch - 1) / (epochs - 1)) * plotWidth;
  const y = (value) => top + plotHeight - ((value - low) / (high - low)) * plotHeight;

  svg.append(element("rect", { class: "ml-frame", x: left, y: top, width: plotWidth, height: plotHeight }));
  for (const fraction of [0, 0.5, 1]) {
    const value = low + fraction * (high - low);
    svg.append(element("text", { class: "ml-tick", x: left - 6, y: y(value) + 4, "text-anchor": "end" }, value.toFixed(2)));
  }
  const step = Math.max(1, Math.ceil(epochs / 8));
  for (let epoch = 1; epoch <= epochs; epoch += step) {
    svg.append(element("text", { class: "ml-tick", x: x(epoch), y: top + plotHeight + 14, "text-anchor": "middle" }, String(epoch)));
  }
  svg.append(element("text", { class: "ml-axis-title", x: left + plotWidth / 2, y: height - 6, "text-anchor": "middle" }, "epoch"));
  svg.append(element("text", { class: "ml-axis-title", x: 10, y: top + plotHeight / 2, "text-anchor": "middle", transform: `rotate(-90 10 ${top + plotHeight / 2})` }, yLabel));

  series.forEach((s, i) => {
    const rows = points[i];
    if (!rows.length) return;
    const d = rows.map((row, j) => `${j ? "L" : "M"}${x(row.epoch).toFixed(1)},${y(row[s.key]).toFixed(1)}`).join(" ");
    svg.append(element("path", { class: `ml-line ${s.className}`, d }));
    for (const row of rows) {
      const dot = element("circle", { class: `ml-point ${s.className}`, cx: x(row.epoch), cy: y(row[s.key]), r: 2.5 });
      dot.append(element("title", {}, `${s.label}, epoch ${row.epoch}: ${row[s.key].toFixed(4)}`));
      svg.append(dot);
    }
    // legend
    const legendY = top + 12 + i * 14;
    svg.append(element("line", { class: `ml-line ${s.className}`, x1: left + plotWidth - 110, y1: legendY - 4, x2: left + plotWidth - 92, y2: legendY - 4 }));
    svg.append(element("text", { class: "ml-legend", x: left + plotWidth - 88, y: legendY }, s.label));
  });
  svg.dataset.points = String(history.length);
}

function show(job) {
  const percent = Math.round(100 * (job.progress ?? 0));
  field("status").textContent = job.status;
  field("status").dataset.status = job.status;
  field("phase").textContent = job.phase || (job.status === "queued" ? "waiting to start" : "");
  const bar = document.getElementById("training-progress");
  bar.value = percent;
  bar.textContent = `${percent}%`;
  field("percent").textContent = `${percent}%`;
  field("epoch").textContent = `${job.epoch ?? 0} / ${job.epochs ?? 0}`;
  field("photos").textContent = `${job.photos_loaded ?? 0} / ${job.photos_total ?? 0}`;
  field("speed").textContent = job.photos_per_second ? job.photos_per_second.toFixed(1) : "-";
  field("eta").textContent = FINISHED.has(job.status) ? "-" : duration(job.eta_seconds);

  const history = job.history ?? [];
  const attributes = job.kind === "attributes";
  drawCurves(document.getElementById("curve-loss"), history, [
    { key: "loss", label: "training", className: "ml-train" },
    { key: "val_loss", label: "validation", className: "ml-validation" },
  ], "loss");
  const [train, validation, name] = attributes ? ["auc", "val_auc", "AUC"] : ["accuracy", "val_accuracy", "accuracy"];
  field("score-caption").textContent = `${attributes ? "ROC AUC" : "Accuracy"}: training and validation`;
  drawCurves(document.getElementById("curve-score"), history, [
    { key: train, label: "training", className: "ml-train" },
    { key: validation, label: "validation", className: "ml-validation" },
  ], name);

  const error = field("error");
  error.hidden = !job.error;
  error.textContent = job.error || "";
  document.getElementById("training-cancel").hidden = FINISHED.has(job.status);
  // The version made, once the job succeeded: its name (or an object with its name).
  const version = typeof job.model_version === "string" ? job.model_version : job.model_version?.name;
  const done = field("done");
  done.hidden = !version;
  if (version) {
    const link = field("version-link");
    link.href = panel.dataset.versionUrl.replace("NAME", encodeURIComponent(version));
    link.textContent = `Open the new version ${version}`;
  }
}

async function poll() {
  for (;;) {
    try {
      const job = await api(panel.dataset.url);
      show(job);
      if (FINISHED.has(job.status)) return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return;
    }
    await sleep(POLL_MS);
  }
}

async function cancel(event) {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await api(panel.dataset.cancelUrl, { method: "POST", body: {} });
    button.textContent = "Cancelling…"; // the next poll shows the job stopping
  } catch (error) {
    field("error").hidden = false;
    field("error").textContent = `Could not cancel: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

if (panel) {
  document.getElementById("training-cancel").addEventListener("click", cancel);
  poll();
}
