// The outbox: swipes and undos leave the browser in order, in the background, retried with
// backoff on network errors, and kept in localStorage across reloads. The server treats an
// identical retried swipe as a no-op, and an undo is only retried while the newest swipe on the
// server is still the one it is for, so nothing counts twice.
//
// Items: {kind: "swipe", photo, direction, card, sent} and {kind: "undo", photo, restore,
// attempted}. ``card`` is the photo as the deck showed it, so an unsent swipe can be undone
// here, even after a reload. ``sent``: a request for it may have reached the server, so undoing
// it must go through the server. An undo's ``photo`` is null when the page did not know which
// swipe was newest (after a reload): it is the server's newest when the undo is sent.
// ``restore``: the card has not been put back yet; the server's answer brings it.

import { api, ApiError, NetworkError, sleep } from "./api.js";

export class Outbox {
  constructor(key) {
    this.key = key;
    this.items = JSON.parse(localStorage.getItem(key) || "[]");
    for (const item of this.items) delete item.inFlight; // the old format's in-memory flag
    this.sending = false;
  }

  save() {
    localStorage.setItem(this.key, JSON.stringify(this.items));
  }

  push(item) {
    this.items.push(item);
    this.save();
  }

  get length() {
    return this.items.length;
  }

  /** Swipes minus undos not confirmed by the server yet. */
  pendingDelta() {
    return this.items.reduce((sum, item) => sum + (item.kind === "swipe" ? 1 : -1), 0);
  }

  swipedPhotos() {
    return this.items.filter((item) => item.kind === "swipe").map((item) => item.photo);
  }

  /** Take back the newest swipe of ``photoId`` if no request for it has left: true when it
   * did (then the server never hears of it). */
  takeBackUnsent(photoId) {
    const index = this.items.findLastIndex((item) => item.kind === "swipe" && item.photo === photoId);
    if (index < 0 || this.items[index].sent) return false;
    this.items.splice(index, 1);
    this.save();
    return true;
  }

  /** The server's answer to the swipe (its ``swipe_count``), or null when it refused it. */
  async sendSwipe(item) {
    item.sent = true;
    this.save();
    try {
      return await api("/api/v1/swipes/", {
        method: "POST",
        body: { photo: item.photo, direction: item.direction },
      });
    } catch (error) {
      // 404: the photo left the deck; 409: swiped the other way before. Nothing to retry, and
      // an undo queued for this swipe has nothing to undo.
      if (!(error instanceof ApiError)) throw error;
      const undo = this.items.findIndex((other) => other.kind === "undo" && other.photo === item.photo);
      if (undo >= 0) this.items.splice(undo, 1);
      return null;
    }
  }

  /** The server's answer to the undo (``swipe_count``, ``direction``, ``photo_detail``), or
   * just ``{swipe_count}`` when there was nothing (more) to undo. */
  async sendUndo(item) {
    if (item.attempted || item.photo === null) {
      const latest = await api("/api/v1/swipes/?limit=1");
      const newest = latest.results[0];
      if (!newest) return { swipe_count: 0 }; // nothing left to undo
      if (item.photo === null) item.photo = newest.photo;
      // An earlier attempt went through and its answer was lost.
      else if (newest.photo !== item.photo) return { swipe_count: latest.count };
    }
    item.attempted = true;
    this.save();
    try {
      return await api("/api/v1/swipes/undo/", { method: "POST" });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return error.status === 404 ? { swipe_count: 0 } : null;
    }
  }

  /** Send everything in order. ``onSent(item, answer)`` after each item (``answer``: from
   * sendSwipe or sendUndo); ``onOffline(bool)`` while retrying. */
  async flush({ onSent, onOffline }) {
    if (this.sending) return false;
    this.sending = true;
    let delay = 500;
    try {
      while (this.items.length) {
        const item = this.items[0];
        let answer;
        try {
          answer = item.kind === "swipe" ? await this.sendSwipe(item) : await this.sendUndo(item);
        } catch (error) {
          if (!(error instanceof NetworkError)) throw error;
          onOffline(true);
          await sleep(delay);
          delay = Math.min(delay * 2, 8000);
          continue;
        }
        if (this.items[0] === item) this.items.shift();
        this.save();
        onOffline(false);
        delay = 500;
        onSent(item, answer);
      }
    } finally {
      this.sending = false;
    }
    return true;
  }
}
