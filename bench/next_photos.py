"""`GET /api/v1/photos/next/?limit=10` over HTTP on the server `make run` starts, at catalog size.

    .venv/bin/python -m bench.next_photos                      # runserver + SQLite (make run)
    .venv/bin/python -m bench.next_photos --photo-cities 24    # only 24 cities have photos
    .venv/bin/python -m bench.next_photos --mode gunicorn  # gunicorn + PostgreSQL (createdb first)

What it does:
1. A fresh folder with its own SQLite file and media (``--mode gunicorn``: the PostgreSQL
   database BENCH_DATABASE_URL, default ``cityvibes_h_next``, emptied), migrated (266 cities).
2. A fast path instead of the pipeline (documented as such, to load 50,000 photos in seconds):
   one ready city model version over the cities of ``--photo-cities`` and ``bulk_create`` of
   ``--photos`` published photos with CNN-like arrays (softmax of random logits with the photo's
   own city boosted, as in bench/recommendation_latency.py), queue positions in order, and one
   shared normalised JPEG in the media folder, so the deck's ``image_url`` is a real file.
3. The server started as ``make run`` starts it (``manage.py runserver``, local settings, the
   autoreloader included), or ``gunicorn -c gunicorn.conf.py cityvibes.wsgi``; tasks in-process.
4. Guests (``POST /auth/guest/``), a few per ranker, each swiping ``--swipes`` photos first.
5. Per ranker: warm-up calls (the first builds the ranking space), then ``--calls`` calls that
   alternate between the guests, each after one swipe of that guest (as the deck does: the
   catch-up of the stored statistics has one swipe to add), timed on the client with
   time.perf_counter around the whole HTTP request; p50/p95/p99 in ms. Then the same calls
   without the swipes, for the server's CPU time per call (user + system of the server and its
   children, from /proc): on a busy machine wall-clock times include waiting for a core.
6. The framework's floor on the same server: ``GET /health/live/``, measured the same way.

``--noreload``: runserver without its autoreloader (while files change under it). The database
gets ANALYZE after loading, as seed_demo's photos do (``--no-analyze`` skips it on SQLite).
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from bench.recommendation_latency import catalog_arrays

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RANKERS = ("bayesian-active", "baseline")


def server_environment(folder: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cityvibes.settings.local",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(folder / "media"),
        "PRIVATE_FILES_ROOT": str(folder / "private"),
        "CELERY_BROKER_URL": "",
        "ML_PRELOAD_MODELS": "false",
        "LOG_LEVEL": "WARNING",
        # The bench makes more guests and swipes per minute than one person would.
        "API_THROTTLE_RATES": "guest_ip=none,swipes_user=none,swipes_ip=none",
    }


def load_catalog(*, photos: int, photo_cities: int, media: Path, analyze: bool) -> None:
    """The fast path: a model version and published photos by bulk_create (no pipeline)."""
    import django

    django.setup()
    from PIL import Image

    from ml.models import ModelVersion
    from photos.models import City, Photo

    slugs = sorted(City.objects.values_list("slug", flat=True))[:photo_cities]
    cities = {city.slug: city for city in City.objects.filter(slug__in=slugs)}
    version = ModelVersion.objects.create(
        name="bench-next-photos", classes=slugs, status=ModelVersion.Status.READY
    )
    shared = "photos/normalized/bench.jpg"
    (media / shared).parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), (90, 140, 200)).save(media / shared, "JPEG")
    arrays, labels = catalog_arrays(len(slugs), photos, np.random.default_rng(0))
    rows = (
        Photo(
            status=Photo.Status.PUBLISHED,
            queue_position=position,
            probabilities=[round(float(p), 6) for p in arrays[position]],
            model_version=version,
            city=cities[slugs[labels[position]]],
            normalized=shared,
            is_synthetic=True,
            source="bench",
        )
        for position in range(photos)
    )
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == 2000:
            Photo.objects.bulk_create(batch)
            batch = []
    Photo.objects.bulk_create(batch)
    from django.db import connection

    if connection.vendor == "postgresql" or analyze:  # plan with real statistics
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def call(url: str, *, token: str | None = None, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


def wait_until_up(base: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode})")
        try:
            call(f"{base}/api/v1/health/live/")
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer within two minutes")


def percentiles(values: list[float]) -> str:
    p50, p95, p99 = np.percentile(np.array(values), [50, 95, 99])
    return f"{p50:.1f} | {p95:.1f} | {p99:.1f}"


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server process and its descendants (the autoreloader's
    child serves the requests), from /proc: robust to other processes on the machine."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def measure(
    base: str, server_pid: int, *, ranker: str, guests: int, swipes: int, calls: int, warmup: int
):
    from users.models import Profile  # the bench process has Django set up (load_catalog)

    tokens = []
    for _ in range(guests):
        session = call(f"{base}/api/v1/auth/guest/", body={})
        Profile.objects.filter(user_id=session["user"]["id"]).update(ranker=ranker)
        tokens.append(session["token"])

    def next_photos(token: str) -> list[dict]:
        return call(f"{base}/api/v1/photos/next/?limit=10", token=token)["results"]

    def swipe(token: str, photo: dict, turn: int) -> None:
        direction = "right" if (photo["id"] + turn) % 3 == 0 else "left"
        call(
            f"{base}/api/v1/swipes/",
            token=token,
            body={"photo": photo["id"], "direction": direction},
        )

    for token in tokens:
        for turn in range(swipes):
            swipe(token, next_photos(token)[0], turn)
    for turn in range(warmup):
        next_photos(tokens[turn % guests])
    durations = []
    for turn in range(calls):
        token = tokens[turn % guests]
        started = time.perf_counter()
        shown = next_photos(token)
        durations.append((time.perf_counter() - started) * 1000)
        if len(shown) != 10 or not shown[0]["image_url"]:
            raise SystemExit(f"unexpected answer: {shown[:1]}")
        swipe(token, shown[0], turn)
    # Server CPU per call: the same calls without swipes (nothing to catch up, the same batch).
    cpu_before = server_cpu_seconds(server_pid)
    for turn in range(calls):
        next_photos(tokens[turn % guests])
    cpu_per_call = (server_cpu_seconds(server_pid) - cpu_before) / calls * 1000
    return durations, cpu_per_call


def trivial(base: str, server_pid: int, *, calls: int) -> tuple[list[float], float]:
    """The framework's floor on the same server: the liveness endpoint, timed the same way."""
    durations, cpu_before = [], server_cpu_seconds(server_pid)
    for _ in range(calls):
        started = time.perf_counter()
        call(f"{base}/api/v1/health/live/")
        durations.append((time.perf_counter() - started) * 1000)
    return durations, (server_cpu_seconds(server_pid) - cpu_before) / calls * 1000


def start_server(args, port: int, environment: dict, log: Path) -> subprocess.Popen:
    if args.mode == "runserver":
        command = [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}"]
        command += ["--noreload"] if args.noreload else []
    else:
        environment = {**environment, "GUNICORN_BIND": f"127.0.0.1:{port}"}
        command = [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "cityvibes.wsgi"]
    return subprocess.Popen(
        command, cwd=ROOT, env=environment, start_new_session=True,
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("runserver", "gunicorn"), default="runserver")
    parser.add_argument(
        "--noreload",
        action="store_true",
        help="runserver without its autoreloader (make run has it; use this while files change)",
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="Skip ANALYZE after loading (seed_demo runs it; SQLite keeps no statistics before)",
    )
    parser.add_argument("--photos", type=int, default=50_000)
    parser.add_argument("--photo-cities", type=int, default=266, help="cities with photos")
    parser.add_argument("--guests", type=int, default=4, help="per ranker")
    parser.add_argument("--swipes", type=int, default=20, help="per guest before timing")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per ranker")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rankers", nargs="+", choices=RANKERS, default=list(RANKERS))
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="cityvibes-next-"))
    if args.mode == "runserver":
        database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    else:
        database_url = os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cityvibes_h_next"
        )
    environment = server_environment(folder, database_url)
    os.environ.update({k: v for k, v in environment.items() if k not in ("LOG_LEVEL",)})
    sys.path.insert(0, str(ROOT))
    # PostgreSQL: emptied by flush, which also empties the catalog that load_cities restores.
    steps = [["migrate", "--noinput"]] + [["flush", "--noinput"], ["load_cities"]] * (
        args.mode == "gunicorn")  # fmt: skip
    for step in steps:
        subprocess.run([PYTHON, "manage.py", *step], cwd=ROOT, env=environment, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    started = time.perf_counter()
    load_catalog(photos=args.photos, photo_cities=args.photo_cities, media=folder / "media",
                 analyze=args.analyze)  # fmt: skip
    print(
        f"{args.mode}: 266 catalog cities, {args.photo_cities} with photos, {args.photos} "
        f"photos loaded in {time.perf_counter() - started:.1f} s (bulk_create fast path)"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = start_server(args, port, environment, folder / "server.log")
    print(f"server log: {folder / 'server.log'}")
    try:
        wait_until_up(base, server)
        print("| ranker | calls | p50 ms | p95 ms | p99 ms | server CPU ms/call |")
        print("|---|---:|---:|---:|---:|---:|")
        for ranker in args.rankers:
            durations, cpu = measure(
                base, server.pid, ranker=ranker, guests=args.guests, swipes=args.swipes,
                calls=args.calls, warmup=args.warmup,
            )  # fmt: skip
            print(
                f"| {ranker} | {len(durations)} | {percentiles(durations)} | {cpu:.1f} |",
                flush=True,
            )
        durations, cpu = trivial(base, server.pid, calls=args.calls)
        print(f"| `GET /health/live/` (floor) | {len(durations)} | {percentiles(durations)} "
              f"| {cpu:.1f} |")  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
