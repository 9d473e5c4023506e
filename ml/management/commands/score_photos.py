"""Score photos that are waiting for a probability array."""

from django.conf import settings
from django.core.management.base import BaseCommand
from rich.progress import Progress

from ml import services
from photos.models import Photo


class Command(BaseCommand):
    help = (
        "Score every pending photo with the active model version, in this process, in batches "
        "(one predict call per ML_SCORING_CHUNK_SIZE photos), with a progress bar. Photos that "
        "still cannot be scored keep their reason (see the admin)."
    )

    def handle(self, *args, **options):
        ids = list(
            Photo.objects.filter(status=Photo.Status.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        size = settings.ML_SCORING_CHUNK_SIZE
        scored = 0
        with Progress(disable=not ids) as progress:
            bar = progress.add_task("Scoring pending photos", total=len(ids))
            for start in range(0, len(ids), size):
                chunk = ids[start : start + size]
                scored += services.photos_score(photo_ids=chunk)
                progress.advance(bar, len(chunk))
        self.stdout.write(
            self.style.SUCCESS(f"{scored} of {len(ids)} pending photos scored and published.")
        )
