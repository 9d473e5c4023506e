// Renders ranked cities (from GET /api/v1/recommendations/) as city cards: the city's most
// typical photo, its match with what the number means, how sure it is, and the swipes behind
// it, all visible without hovering. Each card links to the city's page.

export function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** "62 %" (chance) or "64" (lean), and the words that say what it is. */
export function matchText(city, kind) {
  if (kind === "chance") {
    const [low, high] = city.chance_interval.map((value) => Math.round(100 * value));
    return {
      value: `${city.match} %`,
      label: "chance you'd like a typical photo",
      detail: `likely ${low}–${high} %`,
    };
  }
  return { value: `${city.match}`, label: "lean (50: no signal)", detail: "" };
}

/** What the ranking means, in one sentence, for the summary line above it. */
export function rankingSummary(data) {
  const swipes = `${data.swipe_count} ${data.swipe_count === 1 ? "swipe" : "swipes"}`;
  const likes = `${data.like_count} ${data.like_count === 1 ? "like" : "likes"}`;
  if (data.match_kind === "chance") {
    const base = Math.round(100 * data.base_chance);
    const noLikes = data.like_count === 0 ? " With no like yet, no city is above that." : "";
    return (
      `Ranked from your ${swipes} (${likes}). The % is the chance you'd like a typical photo ` +
      `of the city; for photos in general yours is ${base} %.${noLikes}`
    );
  }
  return (
    `Ranked from your ${swipes} (${likes}) by the original add/subtract rule. The lean is 50 ` +
    "with no signal; only a like lifts a city above 50, and none reaches 100."
  );
}

function reasonsBlock(city) {
  if (!city.reasons?.length) return null;
  const lookAlike = city.reasons.every((reason) => reason.look_alike);
  const cities = [...new Set(city.reasons.map((reason) => reason.city?.name).filter(Boolean))];
  const text = lookAlike
    ? `Looks like ${cities.join(", ")}, which you liked`
    : `Because you liked ${city.reasons.length === 1 ? "this photo" : "these photos"}`;
  const items = city.reasons.map((reason) => {
    const label = reason.city ? `A photo of ${reason.city.name} you liked` : "A photo you liked";
    return element("li", {}, [
      element("img", { src: reason.image_url, alt: label, loading: "lazy", width: "56", height: "56" }),
    ]);
  });
  return element("div", { class: "city-reasons" }, [
    element("p", { class: "city-reasons-text", text }),
    element("ul", { class: "city-reason-photos" }, items),
  ]);
}

/** The city's dominant attributes (what its photos show, by the attribute model) as chips. */
function attributeChips(city) {
  if (!city.attributes?.length) return null;
  return element(
    "ul",
    { class: "city-attributes", "aria-label": `What photos of ${city.name} show` },
    city.attributes.map((label) => element("li", { class: "city-attribute", text: label })),
  );
}

function cityCard(city, kind, compact) {
  const shown = matchText(city, kind);
  const fill = element("span", { class: "city-meter-fill" });
  fill.style.width = `${city.match}%`;
  const meter = element("div", {
    class: "city-meter",
    role: "meter",
    "aria-valuemin": "0",
    "aria-valuemax": "100",
    "aria-valuenow": String(city.match),
    "aria-valuetext": `${shown.value} ${shown.label}`,
    "aria-label": `${city.name}: ${shown.label}`,
  }, [fill]);
  const photo = city.photo
    ? element("img", {
        class: "city-photo",
        src: city.photo.image_url,
        alt: `A typical photo of ${city.name}`,
        loading: "lazy",
        width: compact ? "64" : "120",
        height: compact ? "80" : "150",
      })
    : null;
  const body = element("div", { class: "city-card-body" }, [
    element("div", { class: "city-card-head" }, [
      element("span", { class: "city-rank", text: `${city.rank}` }),
      element("a", { class: "city-name", href: `/cities/${encodeURIComponent(city.slug)}/`, text: city.name }),
      element("span", { class: "city-match", text: shown.value }),
    ]),
    meter,
    element("p", { class: "city-match-words" }, [
      element("span", { text: shown.label }),
      shown.detail ? element("span", { class: "city-interval", text: ` · ${shown.detail}` }) : null,
      element("span", { class: `city-confidence confidence-${city.confidence.replace(" ", "-")}`, text: city.confidence }),
    ]),
    attributeChips(city),
    compact ? null : reasonsBlock(city),
  ]);
  return element("li", { class: "city-card", "data-slug": city.slug }, [photo, body]);
}

/** Fill ``container`` with the ranking as city cards (``compact``: the swipe page's panel). */
export function renderRanking(container, data, { emptyText, compact = false }) {
  container.replaceChildren();
  if (data.swipe_count === 0 || data.results.length === 0) {
    container.append(element("p", { class: "muted empty-ranking", text: emptyText }));
    return;
  }
  const list = element("ol", {
    class: `city-cards${compact ? " compact" : ""}`,
    "aria-label": "Cities ranked by match",
  });
  for (const city of data.results) list.append(cityCard(city, data.match_kind, compact));
  container.append(list);
}
