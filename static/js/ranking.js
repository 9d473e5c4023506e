// Renders ranked cities (from GET /api/v1/recommendations/) with match bars and reasons.

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function reasonsList(city) {
  if (!city.reasons?.length) return null;
  const items = city.reasons.map((reason) => {
    const label = reason.city ? `Liked photo of ${reason.city.name}` : "A photo you liked";
    const why = reason.look_alike
      ? `${city.name} looks like it`
      : `+${reason.contribution.toFixed(2)} for ${city.name}`;
    return element("li", {}, [
      element("img", {
        src: reason.image_url,
        alt: label,
        title: `${label}: ${why}`,
        loading: "lazy",
        width: "56",
        height: "56",
      }),
    ]);
  });
  return element("div", { class: "reasons" }, [
    element("span", { class: "reasons-label", text: "Because you liked" }),
    element("ul", { class: "reason-photos" }, items),
  ]);
}

/** Fill ``container`` with the ranking; ``withReasons`` cities get their liked photos. */
export function renderRanking(container, data, { emptyText }) {
  container.replaceChildren();
  const liked = data.results.filter((city) => city.score !== 0);
  if (data.swipe_count === 0 || liked.length === 0) {
    container.append(element("p", { class: "muted empty-ranking", text: emptyText }));
    return;
  }
  const list = element("ol", { class: "ranking", "aria-label": "Cities ranked by match" });
  for (const city of data.results) {
    const bar = element("div", {
      class: "match-bar",
      role: "meter",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(city.match),
      "aria-label": `${city.name} match`,
    }, [element("span", { class: "match-fill", style: `width: ${city.match}%` })]);
    const row = element("li", { class: "ranked-city", "data-slug": city.slug }, [
      element("div", { class: "ranked-head" }, [
        element("span", { class: "rank", text: `${city.rank}` }),
        element("span", { class: "city-name", text: city.name }),
        element("span", { class: "match-value", text: `${city.match}` }),
      ]),
      bar,
    ]);
    const reasons = reasonsList(city);
    if (reasons) row.append(reasons);
    list.append(row);
  }
  container.append(list);
}
