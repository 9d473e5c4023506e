"""How well "your vibe" (users/vibe.py) names what simulated people lean to.

Each simulated person has a known taste over the demo cities' true attributes (derived from
ml/data/demo_city_styles.json: water -> "waterfront", greenery > 0.5 -> "greenery", ...): two
liked attributes and one disliked, drawn from those that at least MIN_CITIES of the cities have,
and likes a photo with probability sigmoid(BIAS + STRENGTH·(liked shown - disliked shown)). A
photo is one of a random city; its attribute vector is what a decent attribute model would
output: clip(0.85·label + 0.07 + N(0, 0.08)). People without any taste (like probability 0.45
for every photo) measure how often a vibe is named from nothing. The same code as the app
(users.vibe.vibe_estimate) names the leans after 10, 20, 40 and 80 swipes.

    .venv/bin/python -m bench.evaluate_vibe --people 500 --seed 1 --markdown /tmp/vibe_eval.md
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from users import vibe

STYLES = Path(__file__).resolve().parents[1] / "ml" / "data" / "demo_city_styles.json"
CHECKPOINTS = (10, 20, 40, 80)
STRENGTH = 2.5  # logit change of a liked / disliked attribute
BIAS = -0.5  # logit of a photo with none of them
NEUTRAL_LIKE = 0.45
MIN_CITIES = 5
# mutually exclusive attributes (one time of day, one weather, one roof): leaning away from one
# of them is leaning to the others, so a lean opposite a true one in its group is a complement
EXCLUSIVE = (("night", "dusk", "daylight"), ("clear sky", "cloudy", "rain", "fog", "snow"))
EXCLUSIVE += (("domed roofs", "pointed roofs"),)


def city_attributes(styles: dict) -> tuple[list[str], list[str], np.ndarray]:
    """(city slugs, attribute labels, binary matrix cities x attributes)."""
    rules = {
        "waterfront": lambda s: s["water"],
        "mountains": lambda s: s["mountains"],
        "greenery": lambda s: s["greenery"] > 0.5,
        "dense skyline": lambda s: s["skyline_density"] > 0.6,
        "tall buildings": lambda s: s["building_height"] > 0.6,
        "night": lambda s: s["time_of_day"] == "night",
        "dusk": lambda s: s["time_of_day"] == "dusk",
        "daylight": lambda s: s["time_of_day"] == "day",
        "clear sky": lambda s: s["weather"] == "clear",
        "cloudy": lambda s: s["weather"] == "cloudy",
        "rain": lambda s: s["weather"] == "rain",
        "fog": lambda s: s["weather"] == "fog",
        "snow": lambda s: s["weather"] == "snow",
        "domed roofs": lambda s: s["roof"] == "domed",
        "pointed roofs": lambda s: s["roof"] == "pointed",
    }
    slugs = sorted(styles)
    labels = list(rules)
    matrix = np.array([[bool(rules[a](styles[c])) for a in labels] for c in slugs], dtype=float)
    return slugs, labels, matrix


def simulate(people: int, seed: int, truth: np.ndarray, labels: list[str], tasteful: bool):
    """Per checkpoint: lists of (named to, named away, true liked, true disliked) sets."""
    rng = np.random.default_rng(seed)
    eligible = np.flatnonzero(truth.sum(axis=0) >= MIN_CITIES)
    found = {n: [] for n in CHECKPOINTS}
    for _ in range(people):
        chosen = rng.choice(eligible, size=3, replace=False)
        liked, disliked = set(chosen[:2].tolist()), {int(chosen[2])}
        cities = rng.integers(0, len(truth), size=max(CHECKPOINTS))
        shown = truth[cities]
        X = np.clip(0.85 * shown + 0.07 + rng.normal(0, 0.08, shown.shape), 0, 1)
        if tasteful:
            logit = BIAS + STRENGTH * (
                shown[:, sorted(liked)].sum(axis=1) - shown[:, sorted(disliked)].sum(axis=1)
            )
            like = 1 / (1 + np.exp(-logit))
        else:
            liked, disliked = set(), set()
            like = np.full(len(cities), NEUTRAL_LIKE)
        y = np.where(rng.random(len(cities)) < like, 1.0, -1.0)
        for n in CHECKPOINTS:
            estimated = vibe.vibe_estimate(attributes=labels, X=X[:n], y=y[:n])
            to = [labels.index(lean.attribute) for lean in estimated.leans_to]
            away = [labels.index(lean.attribute) for lean in estimated.leans_away_from]
            found[n].append((set(to), set(away), liked, disliked, estimated.sureness, to[:1]))
    return found


def complements(attributes: set, groups) -> set:
    """The attributes sharing a mutually exclusive group with one of ``attributes``."""
    return {a for group in groups for a in group if attributes & set(group)} - attributes


def scores(rows, groups=()) -> dict:
    """``groups``: label indices of the mutually exclusive groups, for complement precision."""
    named = sum(len(to) + len(away) for to, away, *_ in rows)
    right = sum(len(to & liked) + len(away & disliked) for to, away, liked, disliked, *_ in rows)
    loose = sum(
        len(to & (liked | complements(disliked, groups)))
        + len(away & (disliked | complements(liked, groups)))
        for to, away, liked, disliked, *_ in rows
    )
    true = sum(len(liked) + len(disliked) for _, _, liked, disliked, *_ in rows)
    to_named = sum(len(to & liked) for to, _, liked, *_ in rows)
    away_named = sum(len(away & disliked) for _, away, _, disliked, *_ in rows)
    first = [r for r in rows if r[5]]
    wrong_side = sum(len(r[0] & r[3]) + len(r[1] & r[2]) for r in rows)
    sure = [r for r in rows if r[4] == "very sure"]
    sure_right = sum((r[0] <= r[2]) and (r[1] <= r[3]) for r in sure)
    return {
        "precision": right / named if named else math.nan,
        "complement_precision": loose / named if named else math.nan,
        "first_liked": sum(r[5][0] in r[2] for r in first) / len(first) if first else math.nan,
        "recall": right / true if true else math.nan,
        "liked_recall": to_named / max(sum(len(r[2]) for r in rows), 1),
        "disliked_recall": away_named / max(sum(len(r[3]) for r in rows), 1),
        "wrong_side": wrong_side / len(rows),
        "named": named / len(rows),
        "any": sum(bool(r[0] or r[1]) for r in rows) / len(rows),
        "very_sure": len(sure) / len(rows),
        "very_sure_right": sure_right / len(sure) if sure else math.nan,
    }


def markdown(results, neutral, people: int, seed: int, seconds: float, labels) -> str:
    lines = [
        '## "Your vibe": naming the attributes a person leans to (issue 17)',
        "",
        "**Method.** `bench/evaluate_vibe.py`: simulated people with a known taste over the demo "
        "cities' true attributes (from `ml/data/demo_city_styles.json`: "
        + ", ".join(labels)
        + f"). Each likes two attributes and dislikes one, drawn from those at least "
        f"{MIN_CITIES} of the 30 cities have; a photo of a random city is liked with "
        f"probability sigmoid({BIAS} + {STRENGTH}·(liked shown - disliked shown)). The "
        "attribute vector the app sees is the city's true labels blurred like a model's "
        "outputs, clip(0.85·label + 0.07 + N(0, 0.08)). `users.vibe.vibe_estimate` (the "
        "app's code) names the leans. Precision: named leans that are true, on the right side; "
        "recall: true leans named on the right side. Precision, complements ok: also counts as "
        "right a lean opposite a true one within a mutually exclusive group ("
        + "; ".join(", ".join(group) for group in EXCLUSIVE)
        + '), e.g. "not daylight" for someone who likes night. First lean to is liked: among '
        "vibes with a lean to, the share whose first (strongest) one is a liked attribute. "
        '"Very sure right": among vibes labelled '
        "*very sure*, the share where every named lean is true. People without taste like "
        f"every photo with probability {NEUTRAL_LIKE}; any named lean there is a false one.",
        "",
        f"**Command.** `.venv/bin/python -m bench.evaluate_vibe --people {people} --seed {seed}"
        f" --markdown /tmp/vibe_eval.md` ({seconds:.0f} s).",
        "",
        "| swipes | precision | precision, complements ok | recall | liked named | disliked named "
        "| first lean to is liked | wrong side / person | leans named / person | very sure "
        "| very sure right | no taste: any lean |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in CHECKPOINTS:
        r, z = results[n], neutral[n]
        lines.append(
            f"| {n} | {r['precision']:.2f} | {r['complement_precision']:.2f} | "
            f"{r['recall']:.2f} | {r['liked_recall']:.2f} | {r['disliked_recall']:.2f} | "
            f"{r['first_liked']:.2f} | {r['wrong_side']:.2f} | {r['named']:.2f} | "
            f"{r['very_sure']:.0%} | {r['very_sure_right']:.2f} | {z['any']:.0%} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=500, help="simulated people per group")
    parser.add_argument("--seed", type=int, default=1, help="random seed (people, photos)")
    parser.add_argument("--markdown", type=Path, help="also write the section to this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    _, labels, truth = city_attributes(json.loads(STYLES.read_text()))
    groups = [{labels.index(a) for a in group} for group in EXCLUSIVE]
    results = {
        n: scores(rows, groups)
        for n, rows in simulate(args.people, args.seed, truth, labels, tasteful=True).items()
    }
    neutral = {
        n: scores(rows)
        for n, rows in simulate(args.people, args.seed + 1, truth, labels, False).items()
    }
    text = markdown(results, neutral, args.people, args.seed, time.monotonic() - started, labels)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
