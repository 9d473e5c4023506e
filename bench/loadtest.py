"""Load, fault and consistency test of the whole service on this machine.

    make loadtest                              # the full run (~9 minutes)
    .venv/bin/python -m bench.loadtest --stages 25,100 --stage-seconds 15 --chaos-seconds 40

Starts the production stack from a fresh PostgreSQL database: gunicorn (gunicorn.conf.py,
production settings, JSON logs, Prometheus multiprocess metrics), a Celery worker, Redis as broker
and as the rate-limit cache; loads the demo deck (24 cities x 20 photos, label-prior arrays).
Then, with Locust (bench/locustfile.py):

1. Rising concurrency: N simulated people (``Swiper``: next photos, swipes with 0.5-1.5 s of
   looking, the ranking every 10 swipes, client retries and 5 % double taps) for each N.
2. The framework's floor: the same number of clients with no pause on a trivial DRF endpoint
   (``Pinger``) and on swipes alone (``FastSwiper``); the ratio of the two throughputs.
3. Faults: people keep swiping while an import of photos runs through the pipeline; the web
   processes are killed (SIGKILL, all of them) and restarted, then the Celery worker.
4. Consistency: every swipe a client saw acknowledged is in the database exactly once with its
   direction, nothing is there that no client sent, `recompute_scores --check` finds no drift,
   and the import batch finished with no photo lost.

Prints the tables for docs/BENCHMARKS.md and exits 1 if any consistency check fails.
"""

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .loadtest_report import check_ledger, stats, table
from .loadtest_stack import (
    BIN,
    LOAD_DB,
    PORT,
    ROOT,
    Process,
    get,
    manage,
    server_env,
    wait_ready,
)
from .sandbox import fresh_postgres_database


def _locust(user_class: str, users: int, seconds: int, base: str, out: Path, ledger: Path):
    """Run Locust headless; returns the Popen (the caller waits) and the CSV prefix."""
    prefix = out / f"{user_class}-{users}-{int(time.time())}"
    command = [
        str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
        "-u", str(users), "-r", str(max(1, users // 2)), "-t", f"{seconds}s",
        "--host", base, "--csv", str(prefix), "--stop-timeout", "90", "--only-summary",
        "--loglevel", "WARNING", user_class,
    ]  # fmt: skip
    env = {**os.environ, "LOADTEST_LEDGER": str(ledger)}
    log = (out / "locust.log").open("a")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log), prefix


def _run_stage(user_class, users, seconds, base, out, ledger) -> dict[str, dict]:
    process, prefix = _locust(user_class, users, seconds, base, out, ledger)
    process.wait()
    return stats(prefix, seconds)


def _import_photos(base: str, token: str, server, count: int) -> int:
    from tests.pictures import textured

    urls = []
    for index in range(count):
        buffer = io.BytesIO()
        textured(900_000 + index, size=(640, 480)).save(buffer, "JPEG", quality=88)
        urls.append(server.image(f"/load-{index}.jpg", buffer.getvalue()))
    body = json.dumps({"urls": urls, "city": "lisbon"}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/photos/import",
        data=body,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--stages", default="25,50,100,200,400", help="people per stage")
    parser.add_argument("--stage-seconds", type=int, default=40)
    parser.add_argument("--floor-users", type=int, default=32)
    parser.add_argument("--floor-seconds", type=int, default=20)
    parser.add_argument("--chaos-users", type=int, default=100)
    parser.add_argument("--chaos-seconds", type=int, default=75)
    parser.add_argument("--import-photos", type=int, default=60)
    parser.add_argument("--web-workers", type=int, default=5, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    # Apart from another run on the same machine (a different database, port and Redis dbs).
    parser.add_argument("--database-name", default=LOAD_DB, help="made anew for the run")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument(
        "--redis-dbs",
        default="13,14",
        type=lambda value: tuple(int(db) for db in value.split(",")),
        help="the rate-limit cache's and the broker's Redis databases (both emptied)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cityvibes-load-"))
    (workdir / "prometheus").mkdir()
    database_url = fresh_postgres_database(args.database_url, args.database_name)
    env = server_env(args, workdir, database_url)
    import redis

    for db in args.redis_dbs:
        redis.Redis.from_url(f"{args.redis.rstrip('/')}/{db}").flushdb()
    print(f"work folder {workdir}; database {args.database_name}", flush=True)
    manage(env, "migrate", "--noinput")
    # In this process (no broker): the demo deck is complete before the first person arrives.
    manage({**env, "CELERY_BROKER_URL": ""}, "seed_demo", "--per-city", "20")
    admin_token = manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model as m; "
        "from rest_framework.authtoken.models import Token; "
        "print(Token.objects.create(user=m().objects.create_superuser('load', '', 'x')).key)",
    ).split()[-1]  # the shell may print a line about auto-imports first

    base = f"http://127.0.0.1:{args.port}"
    web = Process(
        "web",
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "cityvibes.wsgi"],
        env,
        workdir / "web.log",
    )
    worker = Process(
        "worker",
        [str(BIN / "celery"), "-A", "cityvibes", "worker", "-Q", "celery,ml", "-c", "2", "-E",
         "-n", "load@%h", "--without-gossip", "--without-mingle"],
        env,
        workdir / "worker.log",
    )  # fmt: skip
    ledger = workdir / "ledger.jsonl"
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityvibes.settings.test")
    import django

    django.setup()  # for the test image helpers only; the servers have their own settings
    from tests.image_server import ImageServer

    web.start()
    worker.start()
    try:
        print(f"web ready in {wait_ready(base):.1f} s", flush=True)
        stages = []
        for users in [int(n) for n in args.stages.split(",")]:
            stage = _run_stage("Swiper", users, args.stage_seconds, base, workdir, ledger)
            stages.append((users, stage))
            print(f"stage {users}: {stage['Aggregated']['rps']:.0f} req/s", flush=True)

        ping = _run_stage("Pinger", args.floor_users, args.floor_seconds, base, workdir, ledger)
        fast = _run_stage("FastSwiper", args.floor_users, args.floor_seconds, base, workdir, ledger)

        with ImageServer() as server:
            batch_id = _import_photos(base, admin_token, server, args.import_photos)
            chaos, prefix = _locust(
                "Swiper", args.chaos_users, args.chaos_seconds, base, workdir, ledger
            )
            events = []
            started, third = time.monotonic(), args.chaos_seconds / 3
            time.sleep(third)
            web.kill()
            events.append(f"{third:.0f} s: killed every web process (SIGKILL)")
            time.sleep(2)
            web.start()
            events.append(f"web back and ready after {wait_ready(base) + 2:.1f} s")
            time.sleep(max(0.0, started + 2 * third - time.monotonic()))
            worker.kill()
            events.append(f"{2 * third:.0f} s: killed the Celery worker (SIGKILL), restarted")
            time.sleep(2)
            worker.start()
            chaos.wait()
            chaos_stats = stats(prefix, args.chaos_seconds)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                status, batch = get(f"{base}/api/v1/photos/imports/{batch_id}/", admin_token)
                if status == 200 and batch["finished"]:
                    break
                time.sleep(1)

        drift = subprocess.run(
            [sys.executable, "manage.py", "recompute_scores", "--check"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        ledger_check = check_ledger(database_url, ledger)
        scrape = urllib.request.Request(
            f"{base}/metrics", headers={"Authorization": f"Bearer {env['METRICS_TOKEN']}"}
        )
        metrics_text = urllib.request.urlopen(scrape, timeout=10).read().decode()
    finally:
        web.kill(signal.SIGTERM)
        worker.kill(signal.SIGTERM)

    cores = len(os.sched_getaffinity(0))
    print(f"\n## Rising concurrency ({args.stage_seconds} s per stage, {cores} cores, gunicorn "
          f"{args.web_workers} processes x {args.threads} threads)\n")  # fmt: skip
    table(stages)
    ping_rps = ping["GET /health/live/"]["rps"]
    swipe_rps = fast["POST /swipes/"]["rps"]
    print(f"\n## Floor ({args.floor_users} clients, no pause, {args.floor_seconds} s)\n")
    print("| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in (("GET /health/live/", ping["GET /health/live/"]),
                      ("POST /swipes/", fast["POST /swipes/"])):  # fmt: skip
        print(f"| {name} | {row['rps']:.0f} | {row['p50']:.0f} | {row['p95']:.0f} "
              f"| {row['p99']:.0f} | {row['failures']} |")  # fmt: skip
    print(f"\nswipe / trivial DRF endpoint throughput: {swipe_rps / ping_rps:.2f}")
    print(f"\n## Faults ({args.chaos_users} people, {args.chaos_seconds} s)\n")
    for event in events:
        print(f"- {event}")
    table([(args.chaos_users, chaos_stats)])
    print(f"\nimport batch {batch_id}: {batch.get('counts')} finished={batch.get('finished')}")
    print("\n## Consistency\n")
    print(json.dumps(ledger_check, indent=2))
    print(drift.stdout.strip() or drift.stderr.strip()[-500:])
    swipes_metric = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics_text.splitlines()
        if line.startswith("cityvibes_swipes_total{") and 'outcome="created"' in line
    )
    print(
        f"cityvibes_swipes_total{{outcome=created}} since the last web start: {swipes_metric:.0f}"
    )
    failed = (
        drift.returncode != 0
        or ledger_check["dropped"]
        or ledger_check["wrong_direction"]
        or ledger_check["unexplained_rows"]
        or not batch.get("finished")
        or batch.get("counts", {}).get("failed")
    )
    print("\nRESULT:", "FAIL" if failed else "PASS: no swipe lost, none counted twice, no drift")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
