"""Score photos that are waiting for a probability array."""

from django.core.management.base import BaseCommand
from rich.progress import track

from ml import services
from photos.models import Photo


class Command(BaseCommand):
    help = (
        "Score every pending photo with the active model version, in this process, with a "
        "progress bar. Photos that still cannot be scored keep their reason (see the admin)."
    )

    def handle(self, *args, **options):
        ids = list(
            Photo.objects.filter(status=Photo.Status.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        scored = sum(
            services.photo_score(photo_id=photo_id)
            for photo_id in track(ids, description="Scoring pending photos", disable=not ids)
        )
        self.stdout.write(
            self.style.SUCCESS(f"{scored} of {len(ids)} pending photos scored and published.")
        )
