// The results page: every ranked city as a card (photo, match, confidence, the likes behind
// it), ten more at a time until the last; the cities not in the deck apart; a share link;
// "reset my swipes"; "your vibe" above the ranking.

import { api, NetworkError, showBanner, sleep } from "./api.js";
import { element, rankingSummary, renderRanking } from "./ranking.js";

const container = document.getElementById("results-ranking");
const summary = document.getElementById("results-summary");
const more = document.getElementById("show-more");
const end = document.getElementById("results-end");
const PAGE = 10;
let limit = PAGE;
let rankedCount = PAGE; // cities in the ranking (the API's city_count): never ask for more

async function retrying(path, options) {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 8000)) {
    try {
      const data = await api(path, options);
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

function showNotInDeck(cities) {
  const box = document.getElementById("not-in-deck");
  box.hidden = cities.length === 0;
  document.getElementById("not-in-deck-summary").textContent =
    `Not in the deck yet: ${cities.length} ${cities.length === 1 ? "city" : "cities"}`;
  document
    .getElementById("not-in-deck-list")
    .replaceChildren(...cities.map((city) => element("li", { text: city.name })));
}

// ---- your vibe ------------------------------------------------------------------------------

function leanItem(lean, side) {
  const sure = Math.floor(100 * lean.probability); // floored: "at least"
  const points = Math.round(100 * lean.effect);
  const fill = element("span", { class: `vibe-bar-fill ${side}` });
  fill.style.width = `${sure}%`;
  return element("li", { class: "vibe-lean" }, [
    element("span", { class: "vibe-attribute", text: lean.attribute }),
    element("span", { class: "vibe-bar", "aria-hidden": "true" }, [fill]),
    element("span", {
      class: "vibe-numbers",
      text: `${sure} % sure · ${points > 0 ? "+" : ""}${points} points`,
    }),
  ]);
}

function showVibe(vibe) {
  const box = document.getElementById("vibe");
  box.hidden = !vibe;
  if (!vibe) return;
  const text = document.getElementById("vibe-summary");
  const sureness = document.getElementById("vibe-sureness");
  if (vibe.reason) {
    text.textContent = vibe.reason;
    sureness.textContent = "";
  } else {
    text.textContent = vibe.summary;
    sureness.textContent =
      vibe.sure_at_least === null
        ? `No attribute stands out yet (from ${vibe.swipes_used} swipes).`
        : `How sure: ${vibe.sureness}, at least ${Math.floor(100 * vibe.sure_at_least)} % ` +
          `that every lean named is right (from ${vibe.swipes_used} swipes).`;
  }
  const sides = [
    ["vibe-to", vibe.leans_to, "to"],
    ["vibe-away", vibe.leans_away_from, "away"],
  ];
  for (const [id, leans, side] of sides) {
    document.getElementById(id).replaceChildren(...leans.map((lean) => leanItem(lean, side)));
    document.getElementById(`${id}-side`).hidden = leans.length === 0;
  }
  document.getElementById("vibe-leans").hidden = !vibe.leans_to.length && !vibe.leans_away_from.length;
}

async function show() {
  let data;
  try {
    data = await retrying(`/api/v1/recommendations/?limit=${limit}&reasons=3&not_in_deck=list`);
  } catch (error) {
    summary.textContent = `Your ranking could not be loaded: ${error.message}`;
    return;
  }
  summary.textContent = data.swipe_count ? rankingSummary(data) : "No swipes yet.";
  showVibe(data.swipe_count ? data.vibe : null);
  renderRanking(container, data, {
    emptyText: "Swipe some photos first: your ranked cities appear here.",
  });
  rankedCount = data.city_count;
  const allShown = data.results.length >= data.city_count;
  more.hidden = data.swipe_count === 0 || allShown;
  end.hidden = data.swipe_count === 0 || !allShown || data.city_count <= PAGE;
  end.textContent = `That's all ${data.city_count} cities in the deck.`;
  showNotInDeck(data.not_in_deck ?? []);
  return data;
}

more.addEventListener("click", async () => {
  const firstNew = limit;
  limit = Math.max(1, Math.min(limit + PAGE, rankedCount));
  more.disabled = true;
  await show();
  more.disabled = false;
  container.querySelectorAll(".city-card")[firstNew]?.querySelector(".city-name")?.focus();
});

// ---- share link ------------------------------------------------------------------------------

const shareStatus = document.getElementById("share-status");

function showShare(share) {
  const url = share?.url ?? "";
  document.getElementById("share-link").hidden = !url;
  document.getElementById("share-end").hidden = !url;
  document.getElementById("share-create").textContent = url ? "Make a new link" : "Make a share link";
  document.getElementById("share-url").value = url;
}

async function loadShare() {
  try {
    showShare(await api("/api/v1/share/"));
  } catch {
    showShare(null); // the box stays usable: making a link is one click away
  }
}

document.getElementById("share-create").addEventListener("click", async () => {
  try {
    showShare(await api("/api/v1/share/", { method: "POST" }));
    shareStatus.textContent = "Link ready. Any earlier link no longer works.";
  } catch (error) {
    shareStatus.textContent = `No link made: ${error.message}`;
  }
});

document.getElementById("share-end").addEventListener("click", async () => {
  try {
    await api("/api/v1/share/", { method: "DELETE" });
    showShare(null);
    shareStatus.textContent = "The link no longer works.";
  } catch (error) {
    shareStatus.textContent = `The link could not be ended: ${error.message}`;
  }
});

document.getElementById("share-copy").addEventListener("click", async () => {
  const input = document.getElementById("share-url");
  try {
    await navigator.clipboard.writeText(input.value);
    shareStatus.textContent = "Copied.";
  } catch {
    input.select();
    shareStatus.textContent = "Select the link and copy it.";
  }
});

document.getElementById("reset-swipes").addEventListener("click", async () => {
  if (!window.confirm("Delete all your swipes and start over?")) return;
  await api("/api/v1/swipes/reset/", { method: "POST" });
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith("cityvibes-outbox-")) localStorage.removeItem(key);
  }
  limit = PAGE;
  await show();
});

show();
loadShare();
