"""Recommendation quality against the number of swipes, for simulated users with hidden tastes.

    .venv/bin/python -m bench.evaluate_rankers --users 1000 --swipes 100

Photos: synthetic photos of the 24 demo cities (indices never used by the demo deck), scored by
the demo CNN (trained here exactly as `seed_demo --train` does, then cached under
test-artifacts/ranker-eval/). Users: (a) tastes over the cities' recorded style attributes
(ml/data/demo_city_styles.json): utility = w · style features, w ~ N(0, I); (b) arbitrary
favourite cities: utility ~ N(0, 1) per city. A user likes a photo when its city is in their top
30 % by utility; with the noise rate the answer is flipped. After every swipe each ranker's city
ranking is compared with the user's true one: NDCG@10 (graded gains from the utilities) and
hit@5 (their favourite city in the top 5). Every ranker sees the same users and seeds. Results:
a markdown table (docs/EVALUATION.md) and a PNG plot."""

import argparse
import itertools
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-artifacts" / "ranker-eval"
STYLES = ROOT / "ml" / "data" / "demo_city_styles.json"
CITY_COUNT = 24
PHOTOS_PER_CITY = 40
FIRST_INDEX = 200_000  # never drawn by seed_demo (0..) or evaluate_model (100,000..)
CHECKPOINTS = (5, 10, 15, 20, 30, 40, 60, 80, 100)


# ---- photos and their arrays ------------------------------------------------------------------


def photo_arrays(retrain: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(arrays: photos x cities, labels, city slugs) from the demo CNN, cached."""
    cache = OUT / "arrays.npz"
    cities = sorted(json.loads(STYLES.read_text()))[:CITY_COUNT]
    if cache.exists() and not retrain:
        data = np.load(cache)
        return data["arrays"], data["labels"], cities
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityvibes.settings.local")
    django.setup()  # the image checks read their limits from the settings
    from ml import cnn, training
    from ml.synthetic import city_photo_jpeg
    from photos.images import load_pixels

    print("Training the demo CNN (as seed_demo --train does)...")
    pixels = np.stack([load_pixels(city_photo_jpeg(c, i), 64) for c in cities for i in range(20)])
    labels = np.repeat(np.arange(len(cities)), 20)
    config = training.TrainingConfig(image_size=64, head_epochs=15, finetune_epochs=0)
    model = training.train_city_model(pixels, labels, cities, config).model
    photos = [
        load_pixels(city_photo_jpeg(c, FIRST_INDEX + i), 64)
        for c in cities
        for i in range(PHOTOS_PER_CITY)
    ]
    arrays = cnn.predict(model, np.stack(photos))
    arrays /= arrays.sum(axis=1, keepdims=True)
    labels = np.repeat(np.arange(len(cities)), PHOTOS_PER_CITY)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(cache, arrays=arrays, labels=labels)
    return arrays, labels, cities


def style_features(cities: list[str]) -> np.ndarray:
    """Standardised style attributes of each city (the simulated users' taste space)."""
    styles = json.loads(STYLES.read_text())
    rows = []
    for slug in cities:
        s = styles[slug]
        rows.append(
            [
                np.cos(2 * np.pi * s["hue"]), np.sin(2 * np.pi * s["hue"]), s["saturation"],
                s["skyline_density"], s["building_height"], s["greenery"], float(s["water"]),
                float(s["mountains"]),
                *[float(s["roof"] == r) for r in ("flat", "pointed", "domed")],
                *[float(s["weather"] == w) for w in ("clear", "cloudy", "rain", "fog")],
                *[float(s["time_of_day"] == t) for t in ("day", "dusk", "night")],
            ]
        )  # fmt: skip
    features = np.array(rows)
    return (features - features.mean(0)) / (features.std(0) + 1e-9)


# ---- simulation -------------------------------------------------------------------------------


RANKER_LABELS = {
    "baseline": "baseline (add/subtract, fixed queue)",
    "bayesian": "Bayesian (fixed queue)",
    "bayesian-active": "Bayesian + active queue",
}


CALIBRATION_AT = (20, 60, 100)  # swipe counts at which the shown chances are checked


def simulate(mode, noise, users, swipes, arrays, labels, features, seed) -> dict:
    """NDCG@10 and hit@5 (users x swipes) per ranker, the share of likes each one showed, and
    for the Bayesian rankers the shown chances with the true like-rate of each city's photos
    (calibration). The Bayesian rankers rank by the chance they show (users/match.py), as the
    app does."""
    from users import match, rankers

    cities = arrays.shape[1]
    space = rankers.ranking_space(arrays, labels)
    fixed_queue = np.random.default_rng(7).permutation(len(arrays))  # the app's global queue
    discounts = 1 / np.log2(np.arange(2, 12))
    utility = np.stack(
        [
            features @ np.random.default_rng([seed, user]).normal(size=features.shape[1])
            if mode == "style"
            else np.random.default_rng([seed, user]).normal(size=cities)
            for user in range(users)
        ]
    )
    liked_city = utility >= np.quantile(utility, 0.7, axis=1, keepdims=True)
    low, high = utility.min(axis=1, keepdims=True), utility.max(axis=1, keepdims=True)
    gains = 2 ** (3 * (utility - low) / (high - low)) - 1
    ideal = (-np.sort(-gains, axis=1)[:, :10] * discounts).sum(axis=1)
    favourite = utility.argmax(axis=1)
    everyone = np.arange(users)
    ndcg, hit, like_share, calibration = {}, {}, {}, {}
    truth = np.where(liked_city, 1 - noise, noise)  # the chance a photo of the city is liked
    for name in rankers.RANKERS:
        noise_rngs = [np.random.default_rng([seed, user, 1]) for user in everyone]
        queue_rngs = [np.random.default_rng([seed, user, 2]) for user in everyone]
        statistics = rankers.SwipeStatistics.empty(cities, (users,))
        seen = np.zeros((users, len(arrays)), dtype=bool)
        ndcg[name], hit[name] = np.zeros((users, swipes)), np.zeros((users, swipes))
        likes = 0
        for step in range(swipes):
            if name == rankers.BAYESIAN_ACTIVE:
                photos = np.empty(users, dtype=int)
                for user in everyone:
                    unseen = np.flatnonzero(~seen[user])
                    own = rankers.SwipeStatistics(statistics.gram[user], statistics.moment[user])
                    pick = rankers.photo_batch(space, own, arrays[unseen], 1, queue_rngs[user])
                    photos[user] = unseen[pick[0]]
            else:
                photos = np.full(users, fixed_queue[step])
            seen[everyone, photos] = True
            flipped = np.array([rng.random() < noise for rng in noise_rngs])
            like = liked_city[everyone, labels[photos]] != flipped
            likes += like.sum()
            statistics.add(arrays[photos], np.where(like, 1.0, -1.0))
            if name == rankers.BASELINE:
                scores = statistics.moment[:, :-1]  # Σ y·x: the running scores
            else:
                chance = match.chance_outlook(space, statistics).chance
                scores = np.rint(100 * chance) + 1e-3 * chance  # sorted by the shown %
                if step + 1 in CALIBRATION_AT:
                    calibration[(name, step + 1)] = (chance.ravel(), truth.ravel())
            top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
            ndcg[name][:, step] = (np.take_along_axis(gains, top, 1) * discounts).sum(1) / ideal
            hit[name][:, step] = (top[:, :5] == favourite[:, None]).any(axis=1)
        like_share[name] = likes / (users * swipes)
    return {"ndcg": ndcg, "hit": hit, "like_share": like_share, "calibration": calibration}


def calibration_lines(calibration: dict) -> list[str]:
    """Shown chance against the true like-rate, by tenths of the chance, and the expected
    calibration error (the count-weighted mean gap)."""
    bins = np.linspace(0, 1, 11)
    lines = [
        "",
        "Calibration of the shown chance (Bayesian + active queue): people x cities by the "
        "chance shown; mean shown vs the true like-rate of the city's photos (count).",
        "",
        "| swipes | "
        + " | ".join(f"{lo:.0%}-{hi:.0%}" for lo, hi in itertools.pairwise(bins))
        + " | ECE |",
        "|---:|" + "---|" * 10 + "---:|",
    ]
    for (name, step), (shown, true) in calibration.items():
        if name != "bayesian-active":
            continue
        which = np.clip(np.digitize(shown, bins) - 1, 0, 9)
        cells, gap = [], 0.0
        for b in range(10):
            chosen = which == b
            if not chosen.any():
                cells.append("")
                continue
            cells.append(
                f"{shown[chosen].mean():.2f} vs {true[chosen].mean():.2f} ({chosen.sum()})"
            )
            gap += chosen.sum() * abs(shown[chosen].mean() - true[chosen].mean())
        lines.append(f"| {step} | " + " | ".join(cells) + f" | {gap / len(shown):.3f} |")
    return lines


def bootstrap(values: np.ndarray, rng, resamples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """95 % interval of the mean over users (rows), per swipe count (columns)."""
    means = []
    for start in range(0, resamples, 50):
        index = rng.integers(0, len(values), size=(min(50, resamples - start), len(values)))
        means.append(values[index].mean(axis=1))
    means = np.concatenate(means)
    return np.percentile(means, 2.5, axis=0), np.percentile(means, 97.5, axis=0)


def swipes_to_reach(curve: np.ndarray, target: float) -> int | None:
    reached = np.flatnonzero(curve >= target)
    return int(reached[0]) + 1 if len(reached) else None


# ---- report -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--swipes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--retrain", action="store_true", help="Ignore the cached photo arrays.")
    args = parser.parse_args()

    arrays, labels, cities = photo_arrays(args.retrain)
    features = style_features(cities)
    scenarios = [(mode, noise) for mode in ("style", "city") for noise in (0.0, 0.2)]
    rng = np.random.default_rng(args.seed)
    report, curves = [], {}
    for mode, noise in scenarios:
        started = time.perf_counter()
        result = simulate(mode, noise, args.users, args.swipes, arrays, labels, features, args.seed)
        title = (
            f"{'tastes over city looks' if mode == 'style' else 'arbitrary favourite cities'}, "
            f"{noise:.0%} noise"
        )
        baseline60 = result["ndcg"]["baseline"].mean(axis=0)[min(60, args.swipes) - 1]
        lines = [
            f"### {title}",
            "",
            f"{args.users} users, {time.perf_counter() - started:.0f} s. NDCG@10 (95 % bootstrap "
            "interval) after n swipes; hit@5 in brackets; last column: swipes needed to reach "
            f"the baseline's NDCG@10 after 60 swipes ({baseline60:.3f}).",
            "",
            "| ranker | likes shown | "
            + " | ".join(f"n={n}" for n in CHECKPOINTS if n <= args.swipes)
            + " | swipes to baseline@60 |",
            "|---|---:|" + "---:|" * len([n for n in CHECKPOINTS if n <= args.swipes]) + "---:|",
        ]
        for name in result["ndcg"]:
            values = result["ndcg"][name]
            mean = values.mean(axis=0)
            low, high = bootstrap(values, rng)
            hits = result["hit"][name].mean(axis=0)
            curves[(title, name)] = (mean, low, high)
            cells = [
                f"{mean[n - 1]:.3f} ({low[n - 1]:.3f}-{high[n - 1]:.3f}) [{hits[n - 1]:.2f}]"
                for n in CHECKPOINTS
                if n <= args.swipes
            ]
            reach = swipes_to_reach(mean, baseline60)
            lines.append(
                f"| {RANKER_LABELS[name]} | {result['like_share'][name]:.0%} | "
                + " | ".join(cells)
                + f" | {reach if reach else f'> {args.swipes}'} |"
            )
        lines += calibration_lines(result["calibration"])
        report.append("\n".join(lines))
        print(report[-1], "\n", flush=True)

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.md").write_text("\n\n".join(report) + "\n")
    plot(curves, [t for t in dict.fromkeys(title for title, _ in curves)], args.swipes)


def plot(curves: dict, titles: list[str], swipes: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True, sharey=True)
    x = np.arange(1, swipes + 1)
    for axis, title in zip(axes.flat, titles, strict=True):
        for (curve_title, name), (mean, low, high) in curves.items():
            if curve_title == title:
                axis.plot(x, mean, label=RANKER_LABELS[name])
                axis.fill_between(x, low, high, alpha=0.2)
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.set_xlabel("swipes")
        axis.set_ylabel("NDCG@10")
    axes.flat[0].legend(loc="lower right")
    figure.tight_layout()
    target = ROOT / "docs" / "evaluation-ndcg.png"
    figure.savefig(target, dpi=110)
    print(f"Plot: {target}")


if __name__ == "__main__":
    main()
