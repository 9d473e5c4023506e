"""Recommendation quality against the number of swipes, for simulated users with hidden tastes.

    .venv/bin/python -m bench.evaluate_rankers --users 1000 --swipes 100

Photos: synthetic photos of the 24 demo cities (indices never used by the demo deck), scored by
the demo CNN (trained here with the ml.training.TrainingConfig defaults, as seed_demo --train
does: ImageNet-pretrained EfficientNet-Lite0 at 128 px), with their pooled 1280-d features,
cached under test-artifacts/ranker-eval/. Users: (a) tastes over the cities' recorded style
attributes (ml/data/demo_city_styles.json): utility = w · style features, w ~ N(0, I); (b)
arbitrary favourite cities: utility ~ N(0, 1) per city. A user likes a photo when its city is in
their top 30 % by utility; with the noise rate the answer is flipped. After every swipe each
ranker's city ranking is compared with the user's true one: NDCG@10 (graded gains from the
utilities) and hit@5 (their favourite city in the top 5). Every ranker sees the same users and
seeds; the Bayesian ones run under each look-alike prior (--prior). Results: a markdown table
(docs/EVALUATION.md) and a PNG plot."""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from bench.ranker_report import (
    RANKER_LABELS,
    bootstrap,
    calibration_lines,
    plot,
    swipes_to_reach,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-artifacts" / "ranker-eval"
STYLES = ROOT / "ml" / "data" / "demo_city_styles.json"
CITY_COUNT = 24
PHOTOS_PER_CITY = 40
FIRST_INDEX = 200_000  # never drawn by seed_demo (0..) or evaluate_model (100,000..)
CHECKPOINTS = (5, 10, 15, 20, 30, 40, 60, 80, 100)
CACHE = OUT / "photos-efficientnetlite0-128px.npz"  # a new name for each new demo CNN
# The Bayesian rankers' look-alike prior: the cities' mean log-arrays (the app's) or their mean
# pretrained embeddings (users.rankers.city_similarity_from_embeddings).
PRIORS = ("arrays", "embeddings")


# ---- photos and their arrays ------------------------------------------------------------------


def photo_catalog(retrain: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(arrays: photos x cities, labels, embeddings: photos x 1280, city slugs) from the demo
    CNN, cached."""
    cities = sorted(json.loads(STYLES.read_text()))[:CITY_COUNT]
    if CACHE.exists() and not retrain:
        data = np.load(CACHE)
        return data["arrays"], data["labels"], data["embeddings"], cities
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityvibes.settings.local")
    django.setup()  # the image checks read their limits from the settings
    import keras

    from ml import cnn, training
    from ml.synthetic import city_photo_jpeg
    from photos.images import load_pixels

    config, started = training.TrainingConfig(), time.perf_counter()
    print(f"Training the demo CNN ({config.backbone}, {config.image_size} px)...")

    def pixels(first: int, count: int) -> np.ndarray:
        """``count`` photos of each city from index ``first``, at the model's size."""
        size = config.image_size
        return np.stack(
            [load_pixels(city_photo_jpeg(c, first + i), size) for c in cities for i in range(count)]
        )

    labels = np.repeat(np.arange(len(cities)), 20)
    trained = training.train_city_model(pixels(0, 20), labels, cities, config)
    model, photos = trained.model, pixels(FIRST_INDEX, PHOTOS_PER_CITY)
    arrays = cnn.predict(model, photos)
    arrays /= arrays.sum(axis=1, keepdims=True)
    pooled = keras.Model(model.input, model.get_layer("pool").output)
    embeddings = cnn.predict(pooled, photos).astype("float32")
    labels = np.repeat(np.arange(len(cities)), PHOTOS_PER_CITY)
    print(
        f"Trained and scored in {time.perf_counter() - started:.0f} s: validation top-1 "
        f"{trained.metrics['top1_accuracy']:.3f}, harness photos top-1 "
        f"{(arrays.argmax(axis=1) == labels).mean():.3f}."
    )
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, arrays=arrays, labels=labels, embeddings=embeddings)
    return arrays, labels, embeddings, cities


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


CALIBRATION_AT = (20, 60, 100)  # swipe counts at which the shown chances are checked


def simulate(mode, noise, users, swipes, arrays, labels, features, seed, space, names) -> dict:
    """NDCG@10 and hit@5 (users x swipes) per ranker in ``names``, the share of likes each one
    showed, and for the Bayesian rankers (in ``space``) the shown chances with the true like-rate
    of each city's photos (calibration). The Bayesian rankers rank by the chance they show
    (users/match.py), as the app does."""
    from users import match, rankers

    cities = arrays.shape[1]
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
    for name in names:
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


# ---- report -----------------------------------------------------------------------------------


def main() -> None:
    from users import rankers
    from users.rankers import BASELINE, BAYESIAN, BAYESIAN_ACTIVE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--swipes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--prior", choices=(*PRIORS, "both"), default="both")
    parser.add_argument(
        "--retrain", action="store_true", help="Ignore the cached arrays and features."
    )
    args = parser.parse_args()

    arrays, labels, embeddings, cities = photo_catalog(args.retrain)
    priors = PRIORS if args.prior == "both" else (args.prior,)
    lookalikes = {
        "arrays": None,  # ranking_space's default: the cities' mean log-arrays
        "embeddings": rankers.city_similarity_from_embeddings(embeddings, labels, arrays.shape[1]),
    }
    spaces = {p: rankers.ranking_space(arrays, labels, similarity=lookalikes[p]) for p in priors}
    features = style_features(cities)
    checkpoints = [n for n in CHECKPOINTS if n <= args.swipes]
    at = min(20, args.swipes)  # the summary's early swipe count
    rng, paired_rng = np.random.default_rng(args.seed), np.random.default_rng([args.seed, 1])
    report, curves, summary = [], {}, []
    for mode, noise in [(mode, noise) for mode in ("style", "city") for noise in (0.0, 0.2)]:
        started = time.perf_counter()
        common = (mode, noise, args.users, args.swipes, arrays, labels, features, args.seed)
        runs = {"-": simulate(*common, spaces[priors[0]], (BASELINE,))}  # the same under each
        for prior in priors:
            runs[prior] = simulate(*common, spaces[prior], (BAYESIAN, BAYESIAN_ACTIVE))
        looks = "tastes over city looks" if mode == "style" else "arbitrary favourite cities"
        title = f"{looks}, {noise:.0%} noise"
        baseline60 = runs["-"]["ndcg"][BASELINE].mean(axis=0)[min(60, args.swipes) - 1]
        lines = [
            f"### {title}",
            "",
            f"{args.users} users, {time.perf_counter() - started:.0f} s. NDCG@10 (95 % bootstrap "
            "interval) after n swipes; hit@5 in brackets; last column: swipes needed to reach "
            f"the baseline's NDCG@10 after 60 swipes ({baseline60:.3f}), 95 % bootstrap interval "
            "in brackets. Prior: the Bayesian rankers' look-alike prior.",
            "",
            "| ranker | prior | likes shown | "
            + " | ".join(f"n={n}" for n in checkpoints)
            + " | swipes to baseline@60 |",
            "|---|---|---:|" + "---:|" * len(checkpoints) + "---:|",
        ]
        for prior, result in runs.items():
            for name, values in result["ndcg"].items():
                mean, means = values.mean(axis=0), bootstrap(values, rng)
                low, high = np.percentile(means, [2.5, 97.5], axis=0)
                hits = result["hit"][name].mean(axis=0)
                curves[(title, name, prior)] = (mean, low, high)
                interval = [f"{mean[i]:.3f} ({low[i]:.3f}-{high[i]:.3f})" for i in range(len(mean))]
                reach = swipes_to_reach(mean, means, baseline60)
                lines.append(
                    f"| {RANKER_LABELS[name]} | {prior} | {result['like_share'][name]:.0%} | "
                    + " | ".join(f"{interval[n - 1]} [{hits[n - 1]:.2f}]" for n in checkpoints)
                    + f" | {reach} |"
                )
                if name == BAYESIAN_ACTIVE:  # paired: the same people under the first prior
                    paired = values[:, at - 1] - runs[priors[0]]["ndcg"][name][:, at - 1]
                    gap = np.percentile(bootstrap(paired[:, None], paired_rng), [2.5, 97.5])
                    difference = f"{paired.mean():+.3f} ({gap[0]:+.3f} to {gap[1]:+.3f})"
                    summary.append(
                        f"| {title} | {prior} | {reach} | {interval[at - 1]} | "
                        + ("-" if prior == priors[0] else difference)
                        + " |"
                    )
        for prior in priors:
            lines += calibration_lines(runs[prior]["calibration"], prior)
        report.append("\n".join(lines))
        print(report[-1], "\n", flush=True)
    summary[:0] = [
        "### Look-alike priors: Bayesian + active queue",
        "",
        f"Swipes to the baseline's NDCG@10 after 60 swipes, NDCG@10 after {at} swipes and the "
        f"paired difference from the {priors[0]} prior after {at} swipes (the same people), each "
        "with its 95 % bootstrap interval. arrays: cosine similarity of the cities' centred mean "
        "log-arrays (the app's); embeddings: of their centred mean pooled CNN features.",
        "",
        f"| scenario | prior | swipes to baseline@60 | NDCG@10 at {at} | difference at {at} |",
        "|---|---|---:|---:|---:|",
    ]
    report.append("\n".join(summary))
    print(report[-1], "\n", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.md").write_text("\n\n".join(report) + "\n")
    titles = list(dict.fromkeys(title for title, _, _ in curves))
    plot(curves, titles, args.swipes, ROOT / "docs" / "evaluation-ndcg.png")


if __name__ == "__main__":
    main()
