"""Held-out accuracy of a CNN version on freshly drawn synthetic city photos."""

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from core.errors import ApplicationError
from ml import selectors, versions


class Command(BaseCommand):
    help = (
        "Draw fresh SYNTHETIC photos of each of a model version's cities (photo indices the demo "
        "never uses, so none was trained on), classify them through the normal JPEG -> decode "
        "-> resize -> predict path and report top-1/top-5 accuracy against chance. Stores the "
        "result in the version's metrics (synthetic_held_out)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="Model version name (default: the active).")
        parser.add_argument("--per-city", type=int, default=20, help="Fresh photos per city.")
        parser.add_argument(
            "--min-top1",
            type=float,
            default=None,
            help="Exit with an error if top-1 accuracy is below this (for CI checks).",
        )

    def handle(self, *args, name, per_city, min_top1, **options):
        version = (
            selectors.model_version_get(name=name) if name else selectors.model_version_active()
        )
        if version is None:
            raise CommandError(f"No model version named '{name}'." if name else "None is active.")
        try:
            with Progress() as progress:
                bar = progress.add_task(f"Evaluating {version.name}", total=None)
                metrics = versions.model_version_evaluate_synthetic(
                    version_id=version.pk,
                    per_city=per_city,
                    on_progress=lambda done, total: progress.update(
                        bar, completed=done, total=total
                    ),
                )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{version.name} on {metrics['validation_count']} fresh synthetic photos "
            f"({per_city} per city, {len(version.classes)} cities): "
            f"top-1 {metrics['top1_accuracy']:.3f}, top-5 {metrics['top5_accuracy']:.3f}, "
            f"chance {metrics['chance_accuracy']:.3f}, "
            f"calibration error {metrics['expected_calibration_error']:.3f}."
        )
        worst = sorted(metrics["per_city_accuracy"].items(), key=lambda item: item[1])[:3]
        self.stdout.write("Weakest cities: " + ", ".join(f"{s} {a:.2f}" for s, a in worst))
        if min_top1 is not None and metrics["top1_accuracy"] < min_top1:
            raise CommandError(
                f"Top-1 accuracy {metrics['top1_accuracy']:.3f} is below --min-top1 {min_top1}."
            )
