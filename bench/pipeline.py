"""Photos per second through the whole ingestion pipeline with 1 and 2 worker processes, against
bare scoring of the same models on the same machine, in one run.

    .venv/bin/python -m bench.pipeline --photos 240 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres \\
        --broker-url redis://127.0.0.1:6379/14

Creates (and drops) a database `cityvibes_bench` next to the given one and activates the demo's
three model kinds with the demo's architectures: the city model (EfficientNet-Lite0 at 128 px,
random weights: speed does not depend on their values), the attribute model (pretrained
EfficientNet-Lite0 at 128 px, untrained head) and the ImageNet classifier (EfficientNet-Lite0
at 224 px); `--kinds city` for the city model alone. Serves synthetic 640x480 JPEGs from a local
web server, imports them by URL and times until every photo has left the pipeline, once per
worker count (fresh photos each time, after an untimed warm-up import). Workers are real
`celery worker -c 1` processes consuming both queues, on Redis.

Bare scoring, in this process once the workers are stopped, is what the model steps compute
without the pipeline: the published photos' stored copies decoded and resized for each model
(`ml.scoring.stored_pixels`) and predicted in chunks of 32 (`ml.cnn.predict`), every kind; and,
stricter, the predict calls alone on pixels decoded beforehand."""

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.sandbox import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "cityvibes_bench"
STEPS = ("fetch", "validate", "quality", "dedupe", "score", "score_attributes", "score_imagenet")


def _activate_models(kinds: list[str], folder: Path) -> list:
    from django.core.files.base import ContentFile

    from ml import attributes, cnn, imagenet
    from ml.models import ModelVersion
    from ml.synthetic import DEMO_CITIES

    versions = []
    made = {
        "city": lambda: (
            cnn.make_model(backbone="efficientnetlite0", num_classes=24, image_size=128),
            sorted(DEMO_CITIES[:24]),
        ),
        "attributes": lambda: (
            attributes.make_model(attribute_count=len(attributes.DEMO_ATTRIBUTES), image_size=128),
            list(attributes.DEMO_ATTRIBUTES),
        ),
    }
    for kind in kinds:
        if kind == "imagenet":
            version = imagenet.model_version_imagenet_ensure()
        else:
            model, classes = made[kind]()
            path = folder / f"bench-{kind}.keras"
            model.save(path)
            version = ModelVersion(
                name=f"bench-{kind}", kind=kind, classes=classes,
                backbone="efficientnetlite0", image_size=128,
            )  # fmt: skip
            version.artifact.save(path.name, ContentFile(path.read_bytes()), save=False)
            version.save()
        ModelVersion.objects.filter(kind=kind, is_active=True).update(is_active=False)
        ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
        versions.append(version)
    return versions


def _photo_lines(server, count: int, tag: str, classes: list[str]) -> list[str]:
    from tests.pictures import textured

    lines = []
    for index in range(count):
        buffer = io.BytesIO()
        textured(hash((tag, index)) % 10_000_000, size=(640, 480)).save(buffer, "JPEG", quality=88)
        url = server.image(f"/{tag}-{index}.jpg", buffer.getvalue())
        lines.append(f"{url},{classes[index % len(classes)]}")
    return lines


def _import_and_wait(lines: list[str]):
    from ingest import imports
    from photos.selectors import batch_counts

    started = time.perf_counter()
    batch = imports.photos_import_lines(text="\n".join(lines), source="bench")
    while batch_counts(batch=batch)["queued"]:
        time.sleep(0.1)
    return batch, time.perf_counter() - started


def _run_workers(workers: int, env: dict, server, photos: int, classes: list[str]) -> dict:
    from cityvibes.celery import app
    from photos.models import Photo
    from photos.selectors import batch_counts

    command = [
        sys.executable, "-m", "celery", "-A", "cityvibes", "worker", "-Q", "celery,ml",
        "-c", "1", "-l", "WARNING", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    processes = [
        subprocess.Popen(
            [*command, "-n", f"bench{workers}-{n}@%h"], cwd=ROOT, env=env, start_new_session=True
        )
        for n in range(workers)
    ]
    try:
        deadline = time.monotonic() + 180
        while len(app.control.ping(timeout=1.0) or []) < workers:  # models load at start
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start")
        _import_and_wait(_photo_lines(server, 8 * workers, f"warm{workers}", classes))
        batch, elapsed = _import_and_wait(_photo_lines(server, photos, f"w{workers}", classes))
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    published = list(Photo.objects.filter(batch=batch, status=Photo.Status.PUBLISHED))
    steps = {
        step: statistics.mean(p.analysis[step]["duration_ms"] for p in published)
        for step in STEPS
        if published and step in published[0].analysis
    }
    sizes = [p.analysis["score"].get("batch_size", 1) for p in published]
    return {
        "workers": workers,
        "counts": batch_counts(batch=batch),
        "elapsed": elapsed,
        "rate": photos / elapsed,
        "steps": steps,
        "batch_mean": statistics.mean(sizes) if sizes else 0,
        "ids": [p.pk for p in published],
    }


def _bare_scoring(versions: list, photo_ids: list[int], repeats: int = 3) -> tuple[float, float]:
    """Photos/s of (decode + predict, every kind) and (predict alone, every kind)."""
    from ml import cnn, runtime
    from ml.scoring import stored_pixels
    from photos.models import Photo

    photos = list(Photo.objects.filter(pk__in=photo_ids))
    models = [(version, runtime.model_for(version)) for version in versions]
    decoded = {version.pk: stored_pixels(version, photos)[0] for version in versions}
    for version, model in models:
        cnn.predict(model, decoded[version.pk][:32])  # warm-up (graph tracing)
    full, bare = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        for start in range(0, len(photos), 32):
            chunk = photos[start : start + 32]
            for version, model in models:
                cnn.predict(model, stored_pixels(version, chunk)[0])
        full.append(time.perf_counter() - started)
        started = time.perf_counter()
        for start in range(0, len(photos), 32):
            for version, model in models:
                cnn.predict(model, decoded[version.pk][start : start + 32])
        bare.append(time.perf_counter() - started)
    return len(photos) / statistics.median(full), len(photos) / statistics.median(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=240)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--kinds", default="city,attributes,imagenet")
    parser.add_argument("--database-url", required=True, help="Any database on the server.")
    parser.add_argument("--broker-url", required=True)
    args = parser.parse_args()

    media = Path(tempfile.mkdtemp(prefix="cityvibes-bench-media-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cityvibes.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": fresh_postgres_database(args.database_url, BENCH_DB),
        "CELERY_BROKER_URL": args.broker_url,
        "MEDIA_ROOT": str(media),
        "PRIVATE_FILES_ROOT": str(media.with_name(media.name + "-private")),
        "PHOTO_FETCH_ALLOWED_HOSTS": "localhost",
        "LOG_LEVEL": "WARNING",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cityvibes.celery import app
    from ml.synthetic import DEMO_CITIES
    from tests.image_server import ImageServer

    versions = _activate_models(args.kinds.split(","), media)
    classes = sorted(DEMO_CITIES[:24])
    rows = []
    app.conf.task_always_eager = False
    with ImageServer() as server, app.connection_for_write() as connection:
        for queue in ("celery", "ml"):
            connection.default_channel.queue_purge(queue)
        for workers in [int(count) for count in args.workers.split(",")]:
            rows.append(_run_workers(workers, env, server, args.photos, classes))
            print(f"{workers} worker(s): {rows[-1]['rate']:.1f} photos/s", flush=True)
    full, bare = _bare_scoring(versions, rows[-1]["ids"])

    print()
    print(
        f"{args.photos} photos (640x480 JPEG) per run, {os.cpu_count()} CPU cores, models: "
        + ", ".join(f"{v.kind} {v.backbone} {v.image_size} px" for v in versions)
        # (getattr: the same script also times the code before batching, for comparison)
        + f"; batches of up to {getattr(settings, 'PHOTO_PIPELINE_BATCH_SIZE', 1)}, "
        f"wait {getattr(settings, 'PHOTO_PIPELINE_BATCH_WAIT_MS', 0)} ms"
    )
    print(f"\nbare scoring, every kind: decode + predict {full:.1f} photos/s, predict alone "
          f"{bare:.1f} photos/s\n")  # fmt: skip
    print(
        "| worker processes | published | wall (s) | photos/s | / bare decode+predict "
        "| / bare predict | mean score batch | mean ms per photo: " + " / ".join(STEPS) + " |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        per_step = " / ".join(f"{row['steps'].get(step, 0):.1f}" for step in STEPS)
        print(
            f"| {row['workers']} | {row['counts']['done']} of {args.photos} "
            f"| {row['elapsed']:.1f} | {row['rate']:.1f} | {row['rate'] / full:.2f} "
            f"| {row['rate'] / bare:.2f} | {row['batch_mean']:.1f} | {per_step} |"
        )


if __name__ == "__main__":
    main()
