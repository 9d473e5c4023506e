// The swipe deck: one card at a time, swiped by drag (pointer events), buttons or keys.
// Swipes go into an outbox that is sent in order in the background and retried on network
// errors; the server treats an identical retry as a no-op, so nothing is counted twice.

import { api, ApiError, clientState, NetworkError, showBanner, sleep } from "./api.js";
import { renderRanking } from "./ranking.js";

const state = clientState();
const deck = document.getElementById("deck");
const message = document.getElementById("deck-message");
const countLabel = document.getElementById("swipe-count");
const hint = document.getElementById("hint");
const panel = document.getElementById("panel-ranking");
const wideScreen = window.matchMedia("(min-width: 900px)");

const PREFETCH_BELOW = 5; // fetch more when fewer cards than this wait
const BATCH = 10;
const HINT_AFTER = { swipes: 12, likes: 3 };
const outboxKey = `cityvibes-outbox-${state.username}`;

const queue = []; // photos waiting to be shown, first = on top
const known = new Set(); // photo ids seen in this page (shown, queued or swiped)
const history = []; // {photo, direction}, newest last, for undo
let outbox = JSON.parse(localStorage.getItem(outboxKey) || "[]"); // {kind, photo, direction}
let serverCount = state.swipeCount;
let likes = 0;
let deckSize = null;
let deckExhausted = false;
let fetching = false;
let sending = false;

for (const item of outbox) if (item.kind === "swipe") known.add(item.photo);

// ---- counting ------------------------------------------------------------------------------

function pendingDelta() {
  return outbox.reduce((sum, item) => sum + (item.kind === "swipe" ? 1 : -1), 0);
}

function updateCount() {
  const count = Math.max(0, serverCount + pendingDelta());
  countLabel.textContent = `${count} ${count === 1 ? "swipe" : "swipes"}`;
  const dismissed = sessionStorage.getItem("cityvibes-hint-dismissed");
  // Likes before this page load are not known here; a long history counts as enough signal.
  const enoughLikes = likes >= HINT_AFTER.likes || state.swipeCount >= HINT_AFTER.swipes;
  if (!dismissed && count >= HINT_AFTER.swipes && enoughLikes) hint.hidden = false;
}

// ---- the outbox: sent in order, retried with backoff --------------------------------------

function saveOutbox() {
  localStorage.setItem(outboxKey, JSON.stringify(outbox));
}

async function sendItem(item) {
  if (item.kind === "swipe") {
    try {
      const result = await api("/api/v1/swipes/", {
        method: "POST",
        body: { photo: item.photo, direction: item.direction },
      });
      serverCount = result.swipe_count;
    } catch (error) {
      // 404: the photo left the deck; 409: swiped the other way before. Nothing to retry.
      if (!(error instanceof ApiError)) throw error;
    }
    return;
  }
  // Undo. A retried undo must not remove a second swipe: undo only while the newest swipe on
  // the server is still the one this undo is for.
  if (item.attempted) {
    const latest = await api("/api/v1/swipes/?limit=1");
    if (!latest.results.length || latest.results[0].photo !== item.photo) return;
  }
  item.attempted = true;
  saveOutbox();
  try {
    await api("/api/v1/swipes/undo/", { method: "POST" });
    serverCount = Math.max(0, serverCount - 1);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error; // 404: nothing left to undo
  }
}

async function flush() {
  if (sending) return;
  sending = true;
  let delay = 500;
  try {
    while (outbox.length) {
      const item = outbox[0];
      item.inFlight = true;
      try {
        await sendItem(item);
      } catch (error) {
        if (!(error instanceof NetworkError)) throw error;
        item.inFlight = false;
        showBanner(true);
        await sleep(delay);
        delay = Math.min(delay * 2, 8000);
        continue;
      }
      outbox.shift();
      saveOutbox();
      showBanner(false);
      delay = 500;
      updateCount();
    }
  } finally {
    sending = false;
  }
  refreshPanel();
  if (!queue.length) refill();
}

// ---- fetching photos ------------------------------------------------------------------------

function preload(url) {
  const image = new Image();
  image.src = url;
}

async function refill() {
  if (fetching || queue.length >= PREFETCH_BELOW) return;
  fetching = true;
  try {
    const limit = Math.min(50, BATCH + outbox.length);
    const data = await api(`/api/v1/photos/next/?limit=${limit}`);
    deckSize = data.deck_size;
    let added = 0;
    for (const photo of data.results) {
      if (known.has(photo.id)) continue;
      known.add(photo.id);
      queue.push(photo);
      preload(photo.image_url);
      added += 1;
    }
    deckExhausted = added === 0 && data.results.length < limit;
    showBanner(false);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    showBanner(true);
    setTimeout(refill, 3000);
  } finally {
    fetching = false;
  }
  render();
}

// ---- rendering ------------------------------------------------------------------------------

function altText(photo) {
  const kind = photo.is_synthetic ? "Synthetic image" : "Photo";
  return photo.city ? `${kind} of ${photo.city.name}` : `${kind} of a city`;
}

function cardFor(photo) {
  const card = document.createElement("article");
  card.className = "card";
  card.dataset.photo = photo.id;
  card.setAttribute("aria-label", altText(photo));
  const image = document.createElement("img");
  image.src = photo.image_url;
  image.alt = altText(photo);
  image.draggable = false;
  card.append(image);
  for (const [cls, text] of [["like", "LIKE"], ["nope", "NOPE"]]) {
    const stamp = document.createElement("span");
    stamp.className = `stamp ${cls}`;
    stamp.textContent = text;
    stamp.setAttribute("aria-hidden", "true");
    card.append(stamp);
  }
  if (photo.is_synthetic) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "synthetic demo image";
    card.append(badge);
  }
  attachDrag(card);
  return card;
}

function showMessage(html) {
  message.innerHTML = html;
  message.hidden = false;
}

function render() {
  const shown = [...deck.querySelectorAll(".card:not(.leaving)")];
  const wanted = queue.slice(0, 2); // the top card and the one under it
  shown.forEach((card, index) => {
    if (Number(card.dataset.photo) !== wanted[index]?.id) card.remove();
  });
  const remaining = [...deck.querySelectorAll(".card:not(.leaving)")];
  for (const photo of wanted.slice(remaining.length)) deck.insertBefore(cardFor(photo), message);
  deck.querySelectorAll(".card:not(.leaving)").forEach((card, index) => {
    card.classList.toggle("top", index === 0);
    card.classList.toggle("under", index > 0);
    card.style.zIndex = String(10 - index);
  });
  const hasCard = queue.length > 0;
  for (const id of ["btn-left", "btn-right"]) document.getElementById(id).disabled = !hasCard;
  document.getElementById("btn-undo").disabled = history.length === 0;
  if (hasCard) {
    message.hidden = true;
  } else if (fetching) {
    showMessage('<p class="loading">Loading photos…</p>');
  } else if (deckSize === 0) {
    showMessage(
      "<h2>No photos yet</h2><p>No photo has been scored by the city model yet. " +
        "Come back soon: new photos appear here as soon as they are scored.</p>",
    );
  } else if (outbox.length) {
    showMessage("<h2>Sending your swipes…</h2><p>More photos follow as soon as they are sent.</p>");
  } else if (deckExhausted) {
    showMessage(
      "<h2>You've seen every photo</h2><p>That's the whole deck for now. " +
        '<a href="/results/">See your cities</a> or come back later for new photos.</p>',
    );
  } else {
    showMessage('<p class="loading">Loading photos…</p>');
  }
}

// ---- swiping --------------------------------------------------------------------------------

function swipe(direction, { fromDrag = null } = {}) {
  if (!queue.length) return;
  const photo = queue.shift();
  const card = deck.querySelector(`.card[data-photo="${photo.id}"]`);
  history.push({ photo, direction });
  if (direction === "right") likes += 1;
  outbox.push({ kind: "swipe", photo: photo.id, direction });
  saveOutbox();
  updateCount();
  if (card) {
    card.classList.add("leaving", direction === "right" ? "to-right" : "to-left");
    const startX = fromDrag?.dx ?? 0;
    const sign = direction === "right" ? 1 : -1;
    card.style.transition = "transform 0.28s ease-out, opacity 0.28s ease-out";
    card.style.transform = `translate(${sign * window.innerWidth}px, ${fromDrag?.dy ?? 0}px) rotate(${sign * 30}deg)`;
    card.style.opacity = "0";
    if (startX === 0) card.querySelector(`.stamp.${direction === "right" ? "like" : "nope"}`).style.opacity = "1";
    setTimeout(() => card.remove(), 300);
  }
  render();
  flush();
  refill();
}

function undo() {
  const last = history.pop();
  if (!last) return;
  const index = outbox.findIndex((item) => item.kind === "swipe" && item.photo === last.photo.id);
  if (index >= 0 && !outbox[index].inFlight) {
    outbox.splice(index, 1); // never reached the server: just forget it
  } else {
    outbox.push({ kind: "undo", photo: last.photo.id });
  }
  saveOutbox();
  if (last.direction === "right") likes -= 1;
  queue.unshift(last.photo);
  updateCount();
  render();
  flush();
}

// ---- dragging (mouse and touch, pointer events) ---------------------------------------------

function attachDrag(card) {
  let start = null;
  card.addEventListener("pointerdown", (event) => {
    if (!card.classList.contains("top") || event.button > 0) return;
    start = { x: event.clientX, y: event.clientY, id: event.pointerId };
    card.setPointerCapture(event.pointerId);
    card.style.transition = "none";
  });
  card.addEventListener("pointermove", (event) => {
    if (!start || event.pointerId !== start.id) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    card.style.transform = `translate(${dx}px, ${dy}px) rotate(${dx / 18}deg)`;
    const strength = Math.min(1, Math.abs(dx) / threshold(card));
    card.querySelector(".stamp.like").style.opacity = dx > 0 ? String(strength) : "0";
    card.querySelector(".stamp.nope").style.opacity = dx < 0 ? String(strength) : "0";
  });
  const end = (event) => {
    if (!start || event.pointerId !== start.id) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start = null;
    if (event.type !== "pointercancel" && Math.abs(dx) >= threshold(card)) {
      swipe(dx > 0 ? "right" : "left", { fromDrag: { dx, dy } });
      return;
    }
    card.style.transition = "transform 0.25s ease-out";
    card.style.transform = "";
    card.querySelectorAll(".stamp").forEach((stamp) => { stamp.style.opacity = "0"; });
  };
  card.addEventListener("pointerup", end);
  card.addEventListener("pointercancel", end);
}

function threshold(card) {
  return Math.min(120, card.offsetWidth * 0.3);
}

// ---- the live ranking panel (wide screens) --------------------------------------------------

let panelTimer = null;

function refreshPanel() {
  if (!wideScreen.matches || !panel) return;
  clearTimeout(panelTimer);
  panelTimer = setTimeout(async () => {
    try {
      // The API's default limit, never more cities than the catalog has (a larger limit is a
      // 400); the panel shows the first 8.
      const data = await api("/api/v1/recommendations/?reasons=2");
      const top = { ...data, results: data.results.slice(0, 8) };
      renderRanking(panel, top, { emptyText: "Like a few photos to see your ranking." });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
    }
  }, 250);
}

// ---- wiring ---------------------------------------------------------------------------------

document.getElementById("btn-left").addEventListener("click", () => swipe("left"));
document.getElementById("btn-right").addEventListener("click", () => swipe("right"));
document.getElementById("btn-undo").addEventListener("click", undo);
document.getElementById("hint-close").addEventListener("click", () => {
  hint.hidden = true;
  sessionStorage.setItem("cityvibes-hint-dismissed", "1");
});
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  if (event.key === "ArrowRight") swipe("right");
  else if (event.key === "ArrowLeft") swipe("left");
  else if (event.key === "u" || event.key === "U" || event.key === "Backspace") undo();
  else return;
  event.preventDefault();
});
wideScreen.addEventListener("change", refreshPanel);
window.addEventListener("online", flush);

updateCount();
render();
refill();
flush();
refreshPanel();
