// The cards on the table: the top card and up to two under it (a visible stack), built from
// the photos of GET /api/v1/photos/next/ (or an undone swipe's photo_detail).

import { attachDrag } from "./deck-drag.js";

export const STACK_DEPTH = 3; // the top card and two under it

const preloaded = new Map(); // image URL -> Image, so the cards under the top are decoded early

export function preload(url) {
  if (!url || preloaded.has(url)) return;
  const image = new Image();
  image.decoding = "async";
  image.src = url;
  preloaded.set(url, image);
  if (preloaded.size > 60) preloaded.delete(preloaded.keys().next().value);
}

export function altText(photo) {
  const kind = photo.is_synthetic ? "Synthetic image" : "Photo";
  return photo.city ? `${kind} of ${photo.city.name}` : `${kind} of a city`;
}

function cardFor(photo, onThrow) {
  const card = document.createElement("article");
  card.className = "card";
  card.dataset.photo = photo.id;
  const image = document.createElement("img");
  image.src = photo.image_url;
  image.alt = altText(photo);
  image.draggable = false;
  image.decoding = "async";
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
  attachDrag(card, onThrow);
  return card;
}

/** Show ``photos`` (first = top) as the stack in ``deck``, before ``anchor``; cards that are
 * leaving are not touched. Cards under the top are hidden from assistive technology and inert:
 * only the top card is the photo being judged. */
export function renderStack(deck, photos, anchor, onThrow) {
  const wanted = photos.slice(0, STACK_DEPTH);
  const shown = new Map();
  for (const card of deck.querySelectorAll(".card:not(.leaving)")) {
    const keep = wanted.some((photo) => String(photo.id) === card.dataset.photo);
    if (keep && !shown.has(card.dataset.photo)) shown.set(card.dataset.photo, card);
    else card.remove();
  }
  // The top card first in the DOM too (reading order), each later one under it (z-index).
  const cards = wanted.map((photo) => shown.get(String(photo.id)) ?? cardFor(photo, onThrow));
  let next = anchor;
  for (const card of [...cards].reverse()) {
    if (card.parentNode !== deck || card.nextElementSibling !== next) deck.insertBefore(card, next);
    next = card;
  }
  cards.forEach((card, depth) => {
    card.classList.toggle("top", depth === 0);
    card.classList.toggle("under", depth > 0);
    card.dataset.depth = String(depth);
    card.style.zIndex = String(10 - depth);
    card.inert = depth > 0;
    if (depth === 0) {
      card.removeAttribute("aria-hidden");
      card.setAttribute("aria-label", altText(wanted[0]));
    } else {
      card.setAttribute("aria-hidden", "true");
      card.removeAttribute("aria-label");
    }
  });
}
