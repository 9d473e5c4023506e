"""Queue again the photos whose pipeline stopped: failed ones, and pending ones idle too long."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from photos import services
from photos.models import Photo


class Command(BaseCommand):
    help = (
        "Queue the next step again for failed photos and for pending photos whose pipeline has "
        "not moved for --idle-minutes (e.g. the broker was down when they were imported)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--idle-minutes", type=float, default=30)

    def handle(self, *args, idle_minutes, **options):
        idle_since = timezone.now() - timedelta(minutes=idle_minutes)
        stalled = Photo.objects.exclude(pipeline_step="").filter(
            Q(status=Photo.Status.FAILED)
            | Q(status=Photo.Status.PENDING, updated_at__lt=idle_since)
        )
        resumed = services.pipeline_resume(photo_ids=list(stalled.values_list("pk", flat=True)))
        self.stdout.write(self.style.SUCCESS(f"Queued {resumed} photos again."))
