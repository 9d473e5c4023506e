"""Concurrent POST /api/v1/classify on gunicorn as production runs it, batching off and on.

    .venv/bin/python -m bench.classify_concurrency
    .venv/bin/python -m bench.classify_concurrency --concurrency 1,8,32 --seconds 20 \\
        --web-workers 2 --threads 16 --modes off,on:0,on:2
    .venv/bin/python -m bench.classify_concurrency --predict-only

Starts gunicorn with gunicorn.conf.py and production settings on a fresh PostgreSQL database of
its own (cityvibes_h_classify) and Redis, with one active city model: the demo's architecture
(EfficientNet-Lite0, ImageNet weights, 128 px; the head untrained, the same compute as a trained
one). For each mode (batching off: ML_CLASSIFY_BATCH_MAX=1; on: --batch-max / --batch-wait-ms) it
starts the server afresh, warms it up, then keeps N clients sending one 640x480 JPEG each, back to
back on keep-alive connections, for --seconds per concurrency level, and prints req/s,
p50/p95/p99 latency and the mean images per predict (from the cityvibes_classify_batch_size
histogram on /metrics). --predict-only prints one predict's cost per batch size in this process
instead (no server): what batching can save at most."""

import argparse
import http.client
import io
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.loadtest_stack import BIN, ROOT, Process, manage, server_env, wait_ready
from bench.sandbox import fresh_postgres_database, percentile

DATABASE = "cityvibes_h_classify"
PORT = 8771  # not bench.loadtest's, so both can run on one machine

_CREATE_MODEL = """
from django.core.files import File
from ml import cnn
from ml.models import ModelVersion
from ml.synthetic import DEMO_CITIES
classes = sorted(DEMO_CITIES[:24])
model = cnn.make_model(backbone="{backbone}", num_classes=len(classes), image_size={size},
                       weights="imagenet")
model.save("{path}")
version = ModelVersion(name="bench-city", kind="city", classes=classes, backbone="{backbone}",
                       image_size={size}, status="ready", is_active=True)
with open("{path}", "rb") as handle:
    version.artifact.save("bench-city.keras", File(handle), save=False)
version.save()
"""


def _jpeg() -> bytes:
    from PIL import Image

    image = Image.effect_mandelbrot((640, 480), (-2.0, -1.2, 1.0, 1.2), 60).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def _multipart(content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def _load(concurrency: int, seconds: float, body: bytes, content_type: str) -> dict:
    """``concurrency`` clients sending back to back for ``seconds``: latencies and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Content-Type": content_type}

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        mine, failed = [], []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/classify", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed.append(str(response.status))
                else:
                    mine.append((time.perf_counter() - started) * 1000)
            except (OSError, http.client.HTTPException) as error:
                failed.append(type(error).__name__)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "errors": errors, "seconds": time.monotonic() - started}


def _batch_histogram(token: str) -> tuple[float, float]:
    """(sum, count) of cityvibes_classify_batch_size over every gunicorn process."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    text = connection.getresponse().read().decode()
    connection.close()
    values = {}
    for name in ("sum", "count"):
        match = re.search(rf"^cityvibes_classify_batch_size_{name}\S* (\S+)$", text, re.M)
        values[name] = float(match.group(1)) if match else 0.0
    return values["sum"], values["count"]


def _mode(args, env, label, batch_max, wait_ms, workdir: Path, upload) -> list[dict]:
    env = {
        **env,
        "ML_CLASSIFY_BATCH_MAX": str(batch_max),
        "ML_CLASSIFY_BATCH_WAIT_MS": str(wait_ms),
    }
    metrics_dir = Path(env["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    web = Process(
        "web",
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "cityvibes.wsgi"],
        env,
        workdir / f"gunicorn-{label}.log",
    )
    web.start()
    try:
        wait_ready(f"http://127.0.0.1:{PORT}", timeout=300)
        # Warm-up: every process has loaded its model at start; this traces the predict for the
        # batch sizes it will see.
        _load(max(args.levels), args.warmup_seconds, *upload)
        rows = []
        for concurrency in args.levels:
            before = _batch_histogram(env["METRICS_TOKEN"])
            result = _load(concurrency, args.seconds, *upload)
            after = _batch_histogram(env["METRICS_TOKEN"])
            batches = after[1] - before[1]
            result.update(
                mode=label,
                concurrency=concurrency,
                mean_batch=(after[0] - before[0]) / batches if batches else float("nan"),
            )
            rows.append(result)
            print(_row(result), flush=True)
        return rows
    finally:
        web.kill()


def _row(result: dict) -> str:
    latencies = result["latencies"] or [float("nan")]
    return (
        f"| {result['mode']} | {result['concurrency']} "
        f"| {len(result['latencies']) / result['seconds']:.1f} "
        f"| {percentile(latencies, 50):.1f} | {percentile(latencies, 95):.1f} "
        f"| {percentile(latencies, 99):.1f} | {result['mean_batch']:.2f} "
        f"| {len(result['errors'])} |"
    )


def predict_costs(args) -> None:
    """One model predict per batch size, in this process (no server): what batching can save."""
    import numpy as np

    from ml import cnn

    model = cnn.make_model(
        backbone=args.backbone, num_classes=24, image_size=args.image_size, weights="imagenet"
    )
    size = args.image_size
    pixels = np.random.default_rng(0).uniform(0, 255, (32, size, size, 3)).astype("float32")
    print(f"{args.backbone} at {size} px, one predict (ml.cnn.predict), median of 20")
    print("| images per predict | ms per predict | ms per image |")
    print("|---:|---:|---:|")
    for count in (1, 2, 4, 8, 16, 32):
        for _ in range(3):
            cnn.predict(model, pixels[:count])
        times = []
        for _ in range(20):
            started = time.perf_counter()
            cnn.predict(model, pixels[:count])
            times.append((time.perf_counter() - started) * 1000)
        median = percentile(times, 50)
        print(f"| {count} | {median:.1f} | {median / count:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--concurrency", default="1,8,32", help="clients at once, per level")
    parser.add_argument("--seconds", type=float, default=20, help="per concurrency level")
    parser.add_argument("--warmup-seconds", type=float, default=8)
    parser.add_argument("--web-workers", type=int, default=0, help="0: gunicorn.conf.py's default")
    parser.add_argument("--threads", type=int, default=0, help="0: gunicorn.conf.py's default")
    parser.add_argument("--batch-max", type=int, default=16, help="ML_CLASSIFY_BATCH_MAX when on")
    parser.add_argument("--batch-wait-ms", type=float, default=2.0)
    parser.add_argument("--modes", default="off,on", help='"off", "on", "on:<wait ms>"')
    parser.add_argument("--backbone", default="efficientnetlite0")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument(
        "--predict-only", action="store_true", help="only the cost of one predict per batch size"
    )
    args = parser.parse_args()
    args.levels = [int(level) for level in args.concurrency.split(",")]
    if args.predict_only:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as gunicorn.conf.py sets it
        sys.path.insert(0, str(ROOT))
        predict_costs(args)
        return

    workdir = Path(tempfile.mkdtemp(prefix="cityvibes-classify-"))
    (workdir / "prometheus").mkdir()
    env = server_env(args, workdir, fresh_postgres_database(args.database_url, DATABASE))
    for name, value in (("WEB_CONCURRENCY", args.web_workers), ("GUNICORN_THREADS", args.threads)):
        if value:
            env[name] = str(value)
        else:
            env.pop(name)  # gunicorn.conf.py decides, as in production
    env.update(
        GUNICORN_BIND=f"127.0.0.1:{PORT}",
        # One Redis database for broker and cache, not bench.loadtest's; nothing is queued.
        CELERY_BROKER_URL=args.redis,
        CACHE_URL=args.redis,
        API_THROTTLE_RATES="classify_user=none,classify_ip=none",
        # A worker recycled mid-level (after 2000 requests) stops serving while it reloads
        # TensorFlow: a restart, not the steady state measured here.
        GUNICORN_MAX_REQUESTS="1000000",
    )
    manage(env, "migrate", "--noinput")
    manage(
        env,
        "shell",
        "-c",
        _CREATE_MODEL.format(
            backbone=args.backbone, size=args.image_size, path=workdir / "bench-city.keras"
        ),
    )
    content = _jpeg()
    upload = _multipart(content)
    print(
        f"classify, one 640x480 JPEG ({len(content):,} bytes), {args.backbone} at "
        f"{args.image_size} px; gunicorn workers x threads: "
        f"{env.get('WEB_CONCURRENCY', 'default')} x {env.get('GUNICORN_THREADS', 'default')}; "
        f"batching on = max {args.batch_max}, wait {args.batch_wait_ms} ms; "
        f"{args.seconds:.0f} s per level; work folder {workdir}",
        flush=True,
    )
    print(
        "| batching | clients | req/s | p50 (ms) | p95 (ms) | p99 (ms) | images/predict | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for label in args.modes.split(","):
        # "off", "on" (--batch-wait-ms), or "on:<wait ms>"
        wait_ms = float(label.split(":")[1]) if ":" in label else args.batch_wait_ms
        batch_max = 1 if label == "off" else args.batch_max
        _mode(args, env, label, batch_max, wait_ms, workdir, upload)


if __name__ == "__main__":
    main()
