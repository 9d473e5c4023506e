"""Wall time of the README's demo setup: draw the synthetic photos, train the demo CNN,
activate it (rescore everything), evaluate it on fresh held-out photos.

    .venv/bin/python -m bench.demo_training

Runs exactly `seed_demo --per-city 20 --train` (what `make run` runs) in a fresh database, after
timing the generator alone on 24 photos (one per demo city). CPU seconds are the process's own
(all its threads), which a busy shared machine inflates less than wall time."""

import io
import time

from bench.sandbox import django_sandbox


def _drawing_ms() -> tuple[str, float]:
    """Photo size and milliseconds of CPU to draw and JPEG-encode one photo."""
    from PIL import Image

    from ml.synthetic import DEMO_CITIES, city_photo_jpeg

    city_photo_jpeg(DEMO_CITIES[0], 0)  # warm up (the film grain is made once per size)
    started = time.process_time()
    for index, slug in enumerate(DEMO_CITIES[:24]):
        jpeg = city_photo_jpeg(slug, 1000 + index)
    with Image.open(io.BytesIO(jpeg)) as image:
        size = f"{image.width}x{image.height}"
    return size, 1000 * (time.process_time() - started) / 24


def main() -> None:
    django_sandbox()
    import os

    from django.core.management import call_command

    from ml.models import ModelVersion
    from photos.models import Photo

    size, drawing_ms = _drawing_ms()
    started, cpu_started = time.perf_counter(), time.process_time()
    call_command("seed_demo", "--per-city", "20", "--train")
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    version = ModelVersion.objects.get(is_active=True)
    metrics = version.metrics
    held_out = metrics["synthetic_held_out"]
    published = Photo.objects.filter(status=Photo.Status.PUBLISHED).count()
    print()
    print(f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at the end")
    print(
        "| photo size | drawing (ms/photo, CPU) | photos in the deck | training (s) "
        "| whole seed_demo (s) | seed_demo CPU (s) | val top-1 | held-out top-1 | chance |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {size} | {drawing_ms:.0f} | {published} | {metrics['training_seconds']:.1f} "
        f"| {total:.1f} | {cpu:.1f} | {metrics['top1_accuracy']:.3f} "
        f"| {held_out['top1_accuracy']:.3f} | {held_out['chance_accuracy']:.3f} |"
    )


if __name__ == "__main__":
    main()
