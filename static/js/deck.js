// The swipe deck: a stack of cards swiped by drag (deck-drag.js, with the throw physics of
// deck-physics.js), buttons or keys (one swipe per key press). Swipes leave through the
// outbox (deck-outbox.js). Undo follows the server's history: the page undoes its own unsent
// swipes locally, everything else through POST /api/v1/swipes/undo/, whose answer brings the
// photo back on top, so undo works the same after navigating away or reloading.

import { api, clientState, NetworkError, showBanner } from "./api.js";
import { preload, renderStack, STACK_DEPTH } from "./deck-cards.js";
import { throwCard } from "./deck-drag.js";
import { Outbox } from "./deck-outbox.js";
import { renderRanking } from "./ranking.js";

const state = clientState();
const deck = document.getElementById("deck");
const message = document.getElementById("deck-message");
const countLabel = document.getElementById("swipe-count");
const hint = document.getElementById("hint");
const panel = document.getElementById("panel-ranking");
const buttons = {
  left: document.getElementById("btn-left"),
  right: document.getElementById("btn-right"),
  undo: document.getElementById("btn-undo"),
};
const wideScreen = window.matchMedia("(min-width: 900px)");

const PREFETCH_BELOW = 5; // fetch more when fewer cards than this wait
const BATCH = 10;
const HINT_AFTER = { swipes: 12, likes: 3 };
const PANEL_EMPTY = "Like a few photos to see your ranking.";

const outbox = new Outbox(`cityvibes-outbox-${state.username}`);
const queue = []; // photos waiting to be shown, first = on top
const known = new Set(outbox.swipedPhotos()); // photo ids shown, queued or swiped on this page
// This page's knowledge of the newest swipes ({photo, direction}, newest last): the swipes
// it made, and those still in the outbox from before a reload. Older ones are the server's.
const history = [];
let serverCount = state.swipeCount;
let likes = 0;
let deckSize = null;
let deckExhausted = false;
let fetching = false;

for (const item of outbox.items) {
  if (item.kind === "swipe" && item.card) history.push({ photo: item.card, direction: item.direction });
  else if (item.kind === "undo" && item.photo !== null && history.at(-1)?.photo.id === item.photo) {
    history.pop();
  }
}

// ---- counting, the hint ---------------------------------------------------------------------

function swipeCount() {
  return Math.max(0, serverCount + outbox.pendingDelta());
}

function updateCount() {
  const count = swipeCount();
  countLabel.textContent = `${count} ${count === 1 ? "swipe" : "swipes"}`;
  const dismissed = sessionStorage.getItem("cityvibes-hint-dismissed");
  // Likes before this page load are not known here; a long history counts as enough signal.
  const enoughLikes = likes >= HINT_AFTER.likes || state.swipeCount >= HINT_AFTER.swipes;
  hint.hidden = Boolean(dismissed) || count < HINT_AFTER.swipes || !enoughLikes;
  buttons.undo.disabled = count === 0;
}

// ---- fetching photos ------------------------------------------------------------------------

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

function showMessage(html) {
  message.innerHTML = html;
  message.hidden = false;
}

function render() {
  renderStack(deck, queue, message, swipe); // a thrown card calls swipe(direction, release)
  for (const photo of queue.slice(STACK_DEPTH, STACK_DEPTH + 3)) preload(photo.image_url);
  const hasCard = queue.length > 0;
  buttons.left.disabled = !hasCard;
  buttons.right.disabled = !hasCard;
  updateCount();
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

// ---- swiping and undoing --------------------------------------------------------------------

function swipe(direction, release = {}) {
  if (!queue.length) return;
  const photo = queue.shift();
  const card = deck.querySelector(`.card.top[data-photo="${photo.id}"]`);
  history.push({ photo, direction });
  if (direction === "right") likes += 1;
  outbox.push({ kind: "swipe", photo: photo.id, direction, card: photo });
  if (card) throwCard(card, direction, release);
  render();
  flush();
  refill();
}

function putBackOnTop(photo) {
  const index = queue.findIndex((queued) => queued.id === photo.id);
  if (index >= 0) queue.splice(index, 1);
  known.add(photo.id);
  queue.unshift(photo);
}

function undo() {
  if (swipeCount() === 0) return;
  const last = history.pop();
  if (!last) {
    // Made before this page (or on another device): the server knows which swipe is newest,
    // and its answer brings the photo back.
    outbox.push({ kind: "undo", photo: null, restore: true });
  } else {
    if (!outbox.takeBackUnsent(last.photo.id)) outbox.push({ kind: "undo", photo: last.photo.id });
    if (last.direction === "right") likes = Math.max(0, likes - 1);
    putBackOnTop(last.photo);
  }
  render();
  flush();
}

// ---- the outbox -----------------------------------------------------------------------------

function onSent(item, answer) {
  if (answer && "swipe_count" in answer) serverCount = answer.swipe_count;
  if (item.kind === "undo" && item.restore) {
    if (answer?.photo_detail) {
      if (answer.direction === "right") likes = Math.max(0, likes - 1);
      putBackOnTop(answer.photo_detail);
    } else if (item.photo !== null) {
      known.delete(item.photo); // undone, but its card did not come back: let refill bring it
    }
  }
  render();
}

async function flush() {
  const finished = await outbox.flush({ onSent, onOffline: showBanner });
  if (!finished) return;
  refreshPanel();
  if (!queue.length) refill();
}

// ---- the live ranking panel (wide screens) --------------------------------------------------

let panelTimer = null;
let panelRequest = 0;

function refreshPanel() {
  if (!wideScreen.matches || !panel) return;
  clearTimeout(panelTimer);
  panelTimer = setTimeout(async () => {
    const request = ++panelRequest;
    try {
      // The API's default limit, never more cities than the catalog has (a larger limit is a
      // 400); the panel shows the first 8.
      const data = await api("/api/v1/recommendations/?reasons=2");
      // An older answer arriving late, or swipes sent meanwhile: the next refresh is due.
      if (request !== panelRequest || outbox.length) return;
      const top = { ...data, results: data.results.slice(0, 8) };
      renderRanking(panel, top, { emptyText: PANEL_EMPTY, compact: true });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
    }
  }, 250);
}

// ---- wiring ---------------------------------------------------------------------------------

buttons.left.addEventListener("click", () => swipe("left"));
buttons.right.addEventListener("click", () => swipe("right"));
buttons.undo.addEventListener("click", undo);
document.getElementById("hint-close").addEventListener("click", () => {
  hint.hidden = true;
  sessionStorage.setItem("cityvibes-hint-dismissed", "1");
});
const KEYS = {
  ArrowRight: () => swipe("right"),
  ArrowLeft: () => swipe("left"),
  u: undo,
  U: undo,
  Backspace: undo,
};
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  const action = KEYS[event.key];
  if (!action) return;
  event.preventDefault();
  if (!event.repeat) action(); // one swipe per press: a held key does not fire again
});
// A held Enter or Space on a focused button would click it again and again.
document.querySelector(".controls").addEventListener("keydown", (event) => {
  if (event.repeat && (event.key === "Enter" || event.key === " ")) event.preventDefault();
});
wideScreen.addEventListener("change", refreshPanel);
window.addEventListener("online", flush);

render();
refill();
flush();
refreshPanel();
