"""Latency of the Bayesian rankers for one person at catalog size (266 cities, 50,000 photos).

    .venv/bin/python -m bench.recommendation_latency

Times, in process, what the app does per request with users/rankers.py (the database read of
the profile row and its stored statistics is not included):
- building the ranking space from the catalog's arrays (once per process and
  RANKING_SPACE_TTL, not per request),
- a swipe: decode the stored statistics, add the swipe, encode them again,
- recommendations: decode the statistics, posterior, every city's score, sorted,
- next photos (active queue): a batch of 10 among ACTIVE_CANDIDATES (500) unswiped photos,
for people with 10, 100 and 1,000 swipes. p50 and p99 over --repeats runs each. Photo arrays are
softmax outputs of random logits with the photo's own city boosted (like a trained CNN's). The
app's space spans the cities with deck photos (users.selectors.catalog): ``--cities 24`` is the
demo's shape."""

import argparse
import time

import numpy as np

from bench.sandbox import percentile
from users import rankers


def catalog_arrays(cities: int, photos: int, rng) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, cities, size=photos)
    logits = rng.normal(0, 1.5, size=(photos, cities))
    logits[np.arange(photos), labels] += 6.0
    arrays = np.exp(logits - logits.max(axis=1, keepdims=True))
    return arrays / arrays.sum(axis=1, keepdims=True), labels


def timed(function, repeats: int) -> tuple[float, float]:
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        durations.append((time.perf_counter() - started) * 1000)
    return percentile(durations, 50), percentile(durations, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=266)
    parser.add_argument("--photos", type=int, default=50_000)
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    arrays, labels = catalog_arrays(args.cities, args.photos, rng)

    started = time.perf_counter()
    space = rankers.ranking_space(arrays, labels)
    print(
        f"{args.cities} cities, {args.photos} photos: ranking space built in "
        f"{time.perf_counter() - started:.2f} s (once per process and TTL)"
    )
    print("| swipes | state size | swipe update p50 / p99 | recommendations p50 / p99 "
          "| next 10 photos p50 / p99 |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|")
    for swipes in (10, 100, 1000):
        statistics = rankers.SwipeStatistics.empty(args.cities)
        shown = rng.choice(args.photos, size=swipes, replace=False)
        for photo in shown:
            statistics.add(arrays[photo], rng.choice([-1.0, 1.0]))
        stored = statistics.to_bytes()
        new_photo = arrays[rng.integers(args.photos)]

        def swipe(stored=stored, new_photo=new_photo):
            state = rankers.SwipeStatistics.from_bytes(stored, args.cities)
            state.add(new_photo, 1.0)
            state.to_bytes()

        def recommend(stored=stored):
            state = rankers.SwipeStatistics.from_bytes(stored, args.cities)
            np.argsort(-rankers.bayesian_city_scores(space, state), kind="stable")

        candidates = arrays[rng.choice(args.photos, size=args.candidates, replace=False)]

        def next_photos(stored=stored, candidates=candidates):
            state = rankers.SwipeStatistics.from_bytes(stored, args.cities)
            rankers.photo_batch(space, state, candidates, 10, rng)

        cells = [timed(function, args.repeats) for function in (swipe, recommend, next_photos)]
        print(
            f"| {swipes} | {len(stored) / 1024:.0f} KiB | "
            + " | ".join(f"{p50:.2f} / {p99:.2f} ms" for p50, p99 in cells)
            + " |"
        )


if __name__ == "__main__":
    main()
