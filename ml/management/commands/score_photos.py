"""Rescore photos whose probability array is not from the active model version."""

from django.conf import settings
from django.core.management.base import BaseCommand
from rich.progress import Progress

from ml import scoring
from ml.selectors import model_version_active
from photos import selectors as photo_selectors


class Command(BaseCommand):
    help = (
        "Rescore, with the active model version, every photo that has an array from another "
        "version (photos in the deck, and photos past their pipeline's score step), in this "
        "process, in batches (one predict call per ML_SCORING_CHUNK_SIZE photos), with a "
        "progress bar. It never publishes: photos enter the deck only through the pipeline "
        "(run `resume_pipeline` for stalled ones). Activating a version does this for you."
    )

    def handle(self, *args, **options):
        version = model_version_active()
        if version is None:
            self.stdout.write(self.style.WARNING("No active model version: nothing to score."))
            return
        ids = list(
            photo_selectors.photos_with_arrays()
            .exclude(model_version=version)
            .values_list("pk", flat=True)
        )
        size = settings.ML_SCORING_CHUNK_SIZE
        scored = 0
        with Progress(disable=not ids) as progress:
            bar = progress.add_task(f"Rescoring with {version.name}", total=len(ids))
            for start in range(0, len(ids), size):
                chunk = ids[start : start + size]
                scored += scoring.photos_rescore(photo_ids=chunk)
                progress.advance(bar, len(chunk))
        self.stdout.write(
            self.style.SUCCESS(f"{scored} of {len(ids)} photos rescored with {version.name}.")
        )
