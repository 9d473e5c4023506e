"""Activate a model version: rescore every photo with it, then recompute people's scores."""

import time

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from core.errors import ApplicationError
from ml import activation as activations
from ml import selectors


class Command(BaseCommand):
    help = (
        "Make a model version the active one of its kind. Every photo is rescored with it in "
        "chunked Celery tasks; for a city model every person's running scores are then "
        "recomputed from their swipes with the new arrays. Activating an older version rolls "
        "back the same way. Shows progress until done unless --no-wait (with a broker, the "
        "work runs in the workers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The model version's name.")
        parser.add_argument("--no-wait", action="store_true", help="Return once queued.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait at most.")

    def handle(self, *args, name, no_wait, timeout, **options):
        version = selectors.model_version_get(name=name)
        if version is None:
            raise CommandError(f"No model version named '{name}'.")
        try:
            activation = activations.model_version_activate(version_id=version.pk)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        if no_wait:
            self.stdout.write(f"Activation {activation.pk} queued.")
            return
        deadline = time.monotonic() + timeout
        with Progress() as progress:
            bar = progress.add_task(f"Activating {name}", total=100)
            while True:
                activation.refresh_from_db()
                progress.update(
                    bar,
                    completed=100 * activation.progress,
                    description=activation.get_status_display(),
                )
                if activation.status in (activation.Status.DONE, activation.Status.FAILED):
                    break
                if time.monotonic() > deadline:
                    raise CommandError("Still running; see the admin for its progress.")
                time.sleep(0.5)
        if activation.status == activation.Status.FAILED:
            raise CommandError(f"Activation failed: {activation.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{name} is active: {activation.photos_scored} of {activation.photos_total} photos "
                f"scored with it, {activation.profiles_drifted} of {activation.profiles_total} "
                "people's scores changed."
            )
        )
