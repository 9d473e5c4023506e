"""Photos per second through the whole ingestion pipeline with 1 and 2 worker processes, against
the time of the score step alone.

    .venv/bin/python -m bench.pipeline --photos 120 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres \\
        --broker-url redis://127.0.0.1:6379/14

Creates (and drops) a database `cityvibes_bench` next to the given one, serves synthetic 640x480
JPEGs from a local web server, activates a MobileNetV3Small city model (224 px, random weights:
speed does not depend on their values), imports the photos by URL and times until every photo has
left the pipeline, once per worker count (fresh photos each time). Workers are real
`celery worker -c 1` processes consuming both queues."""

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "cityvibes_bench"


def _recreate_database(admin_url: str) -> str:
    import psycopg2

    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        cursor.execute(f"CREATE DATABASE {BENCH_DB}")
    connection.close()
    return admin_url.rsplit("/", 1)[0] + f"/{BENCH_DB}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--database-url", required=True, help="Any database on the server.")
    parser.add_argument("--broker-url", required=True)
    args = parser.parse_args()

    import tempfile

    media = Path(tempfile.mkdtemp(prefix="cityvibes-bench-media-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cityvibes.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": _recreate_database(args.database_url),
        "CELERY_BROKER_URL": args.broker_url,
        "MEDIA_ROOT": str(media),
        "PRIVATE_FILES_ROOT": str(media.with_name(media.name + "-private")),
        "PHOTO_FETCH_ALLOWED_HOSTS": "localhost",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.core.files.base import ContentFile

    from cityvibes.celery import app
    from ingest import imports
    from ml import cnn
    from ml.models import ModelVersion
    from ml.synthetic import DEMO_CITIES
    from photos.models import Photo
    from photos.selectors import batch_counts
    from tests.image_server import ImageServer
    from tests.pictures import textured

    classes = sorted(DEMO_CITIES[:24])
    model = cnn.make_model(backbone="mobilenetv3small", num_classes=len(classes), image_size=224)
    model_path = media / "bench.keras"
    model.save(model_path)
    version = ModelVersion(
        name="bench-mobilenetv3small", kind=ModelVersion.Kind.CITY, classes=classes,
        backbone="mobilenetv3small", image_size=224, is_active=True,
    )  # fmt: skip
    version.artifact.save("bench.keras", ContentFile(model_path.read_bytes()), save=False)
    version.save()

    rows = []
    with ImageServer() as server, app.connection_for_write() as connection:
        for queue in ("celery", "ml"):
            connection.default_channel.queue_purge(queue)
        for workers in [int(count) for count in args.workers.split(",")]:
            lines = []
            for index in range(args.photos):
                buffer = io.BytesIO()
                textured(workers * 100_000 + index, size=(640, 480)).save(
                    buffer, "JPEG", quality=88
                )
                path = f"/w{workers}-{index}.jpg"
                lines.append(f"{server.image(path, buffer.getvalue())},{classes[index % 24]}")
            command = [
                sys.executable, "-m", "celery", "-A", "cityvibes", "worker", "-Q", "celery,ml",
                "-c", "1", "-l", "WARNING", "--without-gossip", "--without-mingle",
            ]  # fmt: skip
            processes = [
                subprocess.Popen(
                    [*command, "-n", f"bench{workers}-{n}@%h"],
                    cwd=ROOT,
                    env=env,
                    start_new_session=True,
                )
                for n in range(workers)
            ]
            try:
                time.sleep(8)  # workers start (Django, TensorFlow import on first score)
                app.conf.task_always_eager = False
                started = time.perf_counter()
                batch = imports.photos_import_lines(text="\n".join(lines), source="bench")
                while batch_counts(batch=batch)["queued"]:
                    time.sleep(0.2)
                elapsed = time.perf_counter() - started
            finally:
                for process in processes:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=60)
            counts = batch_counts(batch=batch)
            photos = list(Photo.objects.filter(batch=batch, status=Photo.Status.PUBLISHED))
            steps = {
                step: statistics.mean(p.analysis[step]["duration_ms"] for p in photos)
                for step in ("fetch", "validate", "dedupe", "quality", "score", "publish")
            }
            rows.append((workers, counts, elapsed, steps))

    print()
    print(f"{args.photos} photos (640x480 JPEG) per run, {os.cpu_count()} CPU cores")
    print(
        "| worker processes | published | wall (s) | photos/s | mean ms per step: fetch / "
        "validate / dedupe / quality / score / publish | score step alone (photos/s) |"
    )
    print("|---:|---:|---:|---:|---|---:|")
    for workers, counts, elapsed, steps in rows:
        per_step = " / ".join(f"{value:.0f}" for value in steps.values())
        print(
            f"| {workers} | {counts['done']} of {args.photos} | {elapsed:.1f} "
            f"| {args.photos / elapsed:.1f} | {per_step} | {1000 / steps['score']:.1f} |"
        )


if __name__ == "__main__":
    main()
