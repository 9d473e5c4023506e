"""Simulated people swiping through the live REST API, on users the rankers were not tuned on.

    # a running server (e.g. `make run`), with whatever CITYVIBES_RANKER it was started with:
    .venv/bin/python -m bench.simulate_live --url http://127.0.0.1:8000 --users 30
    # in process: a fresh demo (seed_demo --per-city 20 --train), every ranker in turn:
    .venv/bin/python -m bench.simulate_live --users 30

Each simulated person starts as a guest (POST /api/v1/auth/guest/), asks for the next photo
(GET /api/v1/photos/next/?limit=1), swipes right when its city is in their top 30 % by a hidden
taste over the demo cities' recorded style attributes (else left; with --noise the answer is
flipped), and at checkpoints reads GET /api/v1/recommendations/?limit=10 and scores it against
the true ranking with NDCG@10 (the same definition as bench/evaluate_rankers.py). Seeds differ
from the harness's tuning seed (11) and report seed (2026)."""

import argparse
import json
import urllib.request

import numpy as np

from bench.evaluate_rankers import STYLES, style_features

CHECKPOINTS = (5, 10, 20, 40, 60)


class HttpClient:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")


class InProcessClient:
    def __init__(self):
        from rest_framework.test import APIClient

        self.client = APIClient()
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        if self.token:
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {self.token}")
        response = getattr(self.client, method.lower())(path, body, format="json")
        assert response.status_code < 400, (path, response.status_code, response.content[:200])
        return response.json()


def simulate(make_client, users: int, swipes: int, noise: float, seed: int) -> np.ndarray:
    """NDCG@10 per person (rows) at each checkpoint (columns)."""
    cities = sorted(json.loads(STYLES.read_text()))[:24]
    features = style_features(cities)
    discounts = 1 / np.log2(np.arange(2, 12))
    results = np.zeros((users, len(CHECKPOINTS)))
    for person in range(users):
        rng = np.random.default_rng([seed, person])
        utility = dict(zip(cities, features @ rng.normal(size=features.shape[1]), strict=True))
        values = np.array(list(utility.values()))
        liked = {slug for slug, value in utility.items() if value >= np.quantile(values, 0.7)}
        gains = {
            slug: 2 ** (3 * (value - values.min()) / (values.max() - values.min())) - 1
            for slug, value in utility.items()
        }
        ideal = (np.sort(list(gains.values()))[::-1][:10] * discounts).sum()
        client = make_client()
        client.token = client.call("POST", "/api/v1/auth/guest/")["token"]
        for step in range(1, swipes + 1):
            photos = client.call("GET", "/api/v1/photos/next/?limit=1")["results"]
            if not photos:
                break
            like = (photos[0]["city"]["slug"] in liked) != (rng.random() < noise)
            direction = "right" if like else "left"
            client.call(
                "POST", "/api/v1/swipes/", {"photo": photos[0]["id"], "direction": direction}
            )
            if step in CHECKPOINTS:
                ranked = client.call("GET", "/api/v1/recommendations/?limit=10")["results"]
                gain = sum(
                    gains.get(c["slug"], 0.0) * d for c, d in zip(ranked, discounts, strict=False)
                )
                results[person, CHECKPOINTS.index(step)] = gain / ideal
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="", help="Base URL of a running server.")
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--swipes", type=int, default=60)
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()
    header = "| ranker | " + " | ".join(f"n={n}" for n in CHECKPOINTS if n <= args.swipes) + " |"
    if args.url:
        runs = [("as configured on the server", lambda: HttpClient(args.url))]
    else:
        from bench.sandbox import django_sandbox

        django_sandbox()
        from django.conf import settings
        from django.core.management import call_command

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host
        call_command("seed_demo", per_city=20, train=True, verbosity=0)
        runs = []
        for ranker in ("baseline", "bayesian", "bayesian-active"):

            def client(ranker=ranker):
                settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": ranker}
                return InProcessClient()

            runs.append((ranker, client))
    print(f"{args.users} simulated people, {args.noise:.0%} noise, NDCG@10 after n swipes")
    print(header)
    print("|---|" + "---:|" * len([n for n in CHECKPOINTS if n <= args.swipes]))
    for name, make_client in runs:
        ndcg = simulate(make_client, args.users, args.swipes, args.noise, args.seed).mean(axis=0)
        cells = [
            f"{value:.3f}" for n, value in zip(CHECKPOINTS, ndcg, strict=True) if n <= args.swipes
        ]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
