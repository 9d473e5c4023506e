// The deck's physics, as people expect from swipe apps: a card is thrown when dragged far
// enough *or* flicked fast enough, and leaves along the gesture's direction at the gesture's
// speed. Pure functions of the pointer's samples, so the numbers are easy to reason about.

export const FLICK_SPEED = 0.5; // px/ms: a release this fast (the right way) throws
export const FLICK_MIN_DISTANCE = 24; // px: below this a fast release is a tap or a jitter
const VELOCITY_WINDOW = 100; // ms of samples the release velocity is measured over
const MIN_EXIT_SPEED = 1; // px/ms: a gentle release past the threshold still leaves briskly
const MAX_EXIT_SPEED = 6; // px/ms
const MIN_EXIT_MS = 120;
const MAX_EXIT_MS = 600;

/** The distance that throws a card on its own, whatever the speed. */
export function throwDistance(cardWidth) {
  return Math.min(120, cardWidth * 0.3);
}

/** Pointer positions over time (event.timeStamp, in ms); the release velocity is the average
 * over the last VELOCITY_WINDOW ms, so a card held still before release has none. */
export class VelocityTracker {
  constructor(x, y, time) {
    this.samples = [{ x, y, time }];
  }

  add(x, y, time) {
    this.samples.push({ x, y, time });
    // Keep one sample older than the window, so the window is always spanned.
    while (this.samples.length > 2 && this.samples[1].time < time - VELOCITY_WINDOW) {
      this.samples.shift();
    }
  }

  /** Velocity in px/ms at the release point (x, y, time). */
  velocity(x, y, time) {
    const recent = this.samples.filter((sample) => sample.time >= time - VELOCITY_WINDOW);
    const from = recent[0] ?? this.samples[this.samples.length - 1];
    const elapsed = time - from.time;
    if (elapsed <= 0 || elapsed > VELOCITY_WINDOW * 1.5) return { vx: 0, vy: 0 };
    // A release with no move in the window: the card was held still.
    if (from.x === x && from.y === y) return { vx: 0, vy: 0 };
    return { vx: (x - from.x) / Math.max(elapsed, 8), vy: (y - from.y) / Math.max(elapsed, 8) };
  }
}

/** "left", "right" or null (snap back) for a release at (dx, dy) moving at (vx, vy). */
export function releaseDirection({ dx, vx, threshold }) {
  const sign = Math.sign(dx);
  if (sign === 0) return null;
  const flickedSameWay = Math.sign(vx) === sign && Math.abs(vx) >= FLICK_SPEED;
  const flickedBack = Math.sign(vx) === -sign && Math.abs(vx) >= FLICK_SPEED;
  const farEnough = Math.abs(dx) >= threshold && !flickedBack; // dragged out, then flung back: stays
  const flicked = flickedSameWay && Math.abs(dx) >= FLICK_MIN_DISTANCE;
  if (!farEnough && !flicked) return null;
  return sign > 0 ? "right" : "left";
}

/** Where a thrown card goes and how long it takes: along the release velocity when it points
 * the way of the throw (else along the drag), at the release speed (bounded), far enough to
 * leave the viewport, turning as it goes; animated linearly, so it keeps the finger's speed.
 * ``dx, dy``: where the card is now (0, 0 for a key or button swipe); ``reach``: how far
 * sideways it must go to be out of sight. */
export function exitPath({ direction, dx = 0, dy = 0, vx = 0, vy = 0, reach }) {
  const sign = direction === "right" ? 1 : -1;
  let ux;
  let uy;
  if (Math.sign(vx) === sign && Math.hypot(vx, vy) > 0.05) {
    [ux, uy] = [vx, vy];
  } else if (Math.abs(dx) > 0) {
    [ux, uy] = [dx, dy];
  } else {
    [ux, uy] = [sign, 0.08]; // a button or key: straight out, a little downwards
  }
  const length = Math.hypot(ux, uy);
  ux /= length;
  uy /= length;
  // Never steeper than 60° from the horizontal: the card leaves sideways.
  if (Math.abs(uy) > 0.87) {
    uy = Math.sign(uy) * 0.87;
    ux = sign * 0.5;
  }
  const travel = reach / Math.abs(ux);
  const speed = Math.min(MAX_EXIT_SPEED, Math.max(MIN_EXIT_SPEED, Math.hypot(vx, vy)));
  const duration = Math.round(Math.min(MAX_EXIT_MS, Math.max(MIN_EXIT_MS, travel / speed)));
  const x = dx + ux * travel;
  const y = dy + uy * travel;
  return { x, y, rotate: sign * Math.min(40, 12 + Math.abs(ux * travel) / 40), duration };
}
