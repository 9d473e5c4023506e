"""Wall time of the README's demo setup: draw the synthetic photos, train the demo CNN,
activate it (rescore everything), evaluate it on fresh held-out photos.

    .venv/bin/python -m bench.demo_training

Runs exactly `seed_demo --per-city 20 --train` (what `make run` runs) in a fresh database."""

import time

from bench.sandbox import django_sandbox


def main() -> None:
    django_sandbox()
    import os

    from django.core.management import call_command

    from ml.models import ModelVersion

    started = time.perf_counter()
    call_command("seed_demo", "--per-city", "20", "--train")
    total = time.perf_counter() - started
    version = ModelVersion.objects.get(is_active=True)
    metrics = version.metrics
    held_out = metrics["synthetic_held_out"]
    print()
    print(f"{os.cpu_count()} CPU cores")
    print("| photos | training (s) | whole seed_demo (s) | val top-1 | held-out top-1 | chance |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {metrics['train_count'] + metrics['validation_count']} "
        f"| {metrics['training_seconds']:.1f} | {total:.1f} | {metrics['top1_accuracy']:.3f} "
        f"| {held_out['top1_accuracy']:.3f} | {held_out['chance_accuracy']:.3f} |"
    )


if __name__ == "__main__":
    main()
