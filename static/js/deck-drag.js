// Dragging the top card (pointer events: mouse, pen and touch alike) and the card's motion:
// following the finger, snapping back, and leaving along the release vector (deck-physics.js).

import { exitPath, releaseDirection, throwDistance, VelocityTracker } from "./deck-physics.js";

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

function setStamps(card, dx, threshold) {
  const strength = Math.min(1, Math.abs(dx) / threshold);
  card.querySelector(".stamp.like").style.opacity = dx > 0 ? String(strength) : "0";
  card.querySelector(".stamp.nope").style.opacity = dx < 0 ? String(strength) : "0";
}

function snapBack(card) {
  card.style.transition = reducedMotion.matches ? "none" : "transform 0.25s ease-out";
  card.style.transform = "";
  card.querySelectorAll(".stamp").forEach((stamp) => {
    stamp.style.opacity = "0";
  });
}

/** Send ``card`` off screen: from where it is (``dx, dy``) along the release velocity
 * (``vx, vy`` in px/ms; a key or button gives a default one). Removed when out of sight. */
export function throwCard(card, direction, { dx = 0, dy = 0, vx, vy } = {}) {
  const sign = direction === "right" ? 1 : -1;
  card.classList.add("leaving", direction === "right" ? "to-right" : "to-left");
  card.querySelector(`.stamp.${direction === "right" ? "like" : "nope"}`).style.opacity = "1";
  card.querySelector(`.stamp.${direction === "right" ? "nope" : "like"}`).style.opacity = "0";
  if (reducedMotion.matches) {
    card.remove(); // no motion: the next card is simply there
    return null;
  }
  // Far enough sideways that the card, turned, is past the viewport's edge.
  const box = card.getBoundingClientRect();
  const edge = direction === "right" ? window.innerWidth - box.left : box.right;
  const reach = Math.max(edge, 0) + 0.4 * box.height;
  const path = exitPath({ direction, dx, dy, vx: vx ?? sign * 3, vy: vy ?? 0.25, reach });
  card.dataset.exitMs = String(path.duration);
  card.style.transition = `transform ${path.duration}ms linear, opacity ${path.duration}ms ease-in`;
  card.style.transform = `translate(${path.x}px, ${path.y}px) rotate(${path.rotate}deg)`;
  card.style.opacity = "0.4";
  setTimeout(() => card.remove(), path.duration + 20);
  return path;
}

/** Make ``card`` draggable while it is the top card; ``onThrow(direction, release)`` is called
 * for a throw (``release``: dx, dy, vx, vy), the card snaps back otherwise. */
export function attachDrag(card, onThrow) {
  let start = null;
  let tracker = null;
  card.addEventListener("pointerdown", (event) => {
    if (!card.classList.contains("top") || card.classList.contains("leaving")) return;
    if (event.button > 0 || start) return;
    start = { x: event.clientX, y: event.clientY, id: event.pointerId };
    tracker = new VelocityTracker(event.clientX, event.clientY, event.timeStamp);
    card.setPointerCapture(event.pointerId);
    card.style.transition = "none";
    card.classList.add("dragging");
  });
  card.addEventListener("pointermove", (event) => {
    if (!start || event.pointerId !== start.id) return;
    // Every sample the browser merged into this event, for an accurate velocity.
    const samples = event.getCoalescedEvents?.() ?? [];
    for (const sample of samples.length ? samples : [event]) {
      tracker.add(sample.clientX, sample.clientY, sample.timeStamp);
    }
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    card.style.transform = `translate(${dx}px, ${dy}px) rotate(${dx / 18}deg)`;
    setStamps(card, dx, throwDistance(card.offsetWidth));
  });
  const end = (event) => {
    if (!start || event.pointerId !== start.id) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    const { vx, vy } = tracker.velocity(event.clientX, event.clientY, event.timeStamp);
    start = null;
    card.classList.remove("dragging");
    if (card.classList.contains("leaving")) return; // thrown meanwhile, by a key or a button
    const threshold = throwDistance(card.offsetWidth);
    const direction = event.type === "pointercancel" ? null : releaseDirection({ dx, vx, threshold });
    if (direction) onThrow(direction, { dx, dy, vx, vy });
    else snapBack(card);
  };
  card.addEventListener("pointerup", end);
  card.addEventListener("pointercancel", end);
  card.addEventListener("lostpointercapture", (event) => {
    if (start && event.pointerId === start.id) {
      start = null;
      card.classList.remove("dragging");
      snapBack(card);
    }
  });
}
