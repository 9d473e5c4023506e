"""Where one swipe's time goes, in process: queries and milliseconds per request.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.swipe_profile [--swipes 300] [--profile 25] [--cache-url redis://...]

A fresh database (bench/sandbox.py; with BENCH_DATABASE_URL, a database
``cityvibes_swipe_profile`` made anew on that PostgreSQL server, else SQLite) with the
label-prior model version over every catalogue city (266, as the load test's demo deck) and
``--photos`` published photos; one guest with a token. Through Django's test client (the whole
middleware stack, DEBUG off, JSON renderer only), it times:

- ``POST /api/v1/swipes/`` (new swipes, each on the next photo) and the SQL each one runs
  (CaptureQueriesContext: every statement, BEGIN/COMMIT included on PostgreSQL),
- a retry of a swipe already made (200, ``created: false``),
- ``GET /api/v1/health/live/``: a DRF view with no authentication nor database, the floor,

then prints p50/p95 per kind, the statements of one swipe, and with ``--profile N`` the top
functions of cProfile over N more swipes (cumulative time). No timed assertion anywhere: this
is a measurement for docs/BENCHMARKS.md."""

import argparse
import cProfile
import io
import os
import pstats
import random
import time
from pathlib import Path

from bench.sandbox import fresh_postgres_database


def _timed(call, count: int) -> tuple[list[float], float]:
    """Wall milliseconds of each call, and this process's CPU milliseconds per call (the
    database server's work is not in it; on a busy machine it is steadier than wall time)."""
    durations = []
    cpu_started = time.process_time()
    for index in range(count):
        started = time.perf_counter()
        call(index)
        durations.append((time.perf_counter() - started) * 1000)
    return durations, (time.process_time() - cpu_started) * 1000 / count


def _server_cpu_ms(connection) -> float | None:
    """CPU time used so far by this connection's PostgreSQL backend process (it runs on this
    machine in the benchmark), from /proc; None elsewhere (SQLite, a remote server)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=400)
    parser.add_argument("--swipes", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0, help="cProfile this many more swipes")
    parser.add_argument("--dump", default="", help="also write the cProfile stats to this file")
    parser.add_argument("--cache-url", default="", help="e.g. redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    if args.swipes + args.profile + 2 > args.photos:
        parser.error("--photos must exceed --swipes + --profile + 2 (one new photo per swipe)")
    os.environ["DJANGO_DEBUG"] = "false"  # no query log, no browsable API: as in production
    # As bench/loadtest.py: the per-user limit raised (no pause here), still checked per request.
    os.environ["API_THROTTLE_RATES"] = "swipes_user=6000/min,swipes_ip=none"
    if args.cache_url:
        os.environ["CACHE_URL"] = args.cache_url
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["BENCH_DATABASE_URL"] = fresh_postgres_database(
            os.environ["BENCH_DATABASE_URL"], "cityvibes_swipe_profile"
        )
    from bench.sandbox import django_sandbox, percentile

    django_sandbox()
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from ml.scoring import model_version_label_prior_ensure
    from tests.factories import published_photo
    from users.services import guest_create

    cache.clear()
    version = model_version_label_prior_ensure()
    slugs = list(version.classes)
    photos = [published_photo(city_slug=slugs[i % 24]).pk for i in range(args.photos)]
    # In no particular order, as the active queue serves them (the queue's front moves sometimes).
    random.Random(0).shuffle(photos)
    _, token = guest_create()
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    def swipe(index: int):
        body = {"photo": photos[index], "direction": "right" if index % 2 else "left"}
        response = client.post("/api/v1/swipes/", body, format="json")
        if response.status_code not in (200, 201):
            raise SystemExit(f"swipe {index}: {response.status_code} {response.content[:300]}")
        return response

    swipe(0)  # warm-up: first-request imports, the catalog's caches
    client.get("/api/v1/health/live/")
    with CaptureQueriesContext(connection) as captured:
        swipe(1)
    queries = list(captured.captured_queries)  # the next request's start clears the log
    server_before = _server_cpu_ms(connection)
    created = _timed(lambda i: swipe(i + 2), args.swipes)
    server_after = _server_cpu_ms(connection)
    retries = _timed(lambda i: swipe(2 + i % args.swipes), min(args.swipes, 200))
    live = _timed(lambda i: client.get("/api/v1/health/live/"), 500)

    engine = connection.vendor
    print(f"{engine}, {len(slugs)} cities, {args.photos} photos, cache {cache.__class__.__name__}")
    print("| request | n | wall p50 ms | wall p95 ms | CPU ms (this process) | SQL statements |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (values, cpu), count in (
        ("POST /swipes/ (new, 201)", created, len(queries)),
        ("POST /swipes/ (retry, 200)", retries, ""),
        ("GET /health/live/", live, 0),
    ):
        print(
            f"| {name} | {len(values)} | {percentile(values, 50):.2f} "
            f"| {percentile(values, 95):.2f} | {cpu:.2f} | {count} |"
        )
    if server_before is not None and server_after is not None:
        server = (server_after - server_before) / args.swipes
        print(f"\nPostgreSQL backend CPU per new swipe: {server:.2f} ms (/proc, 10 ms ticks)")
    print("\nstatements of one new swipe:")
    for query in queries:
        print("  ", query["sql"][:150])

    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU time: waits on the servers left out
        start = args.swipes + 2
        profiler.enable()
        for index in range(start, start + args.profile):
            swipe(index)
        profiler.disable()
        if args.dump:
            profiler.dump_stats(args.dump)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"/(core|users|photos)/|rest_framework/", 30)
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
