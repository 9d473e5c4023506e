"""Queue again the photos whose pipeline stopped: failed ones, and pending ones idle too long."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from ingest.runner import pipeline_resume
from photos import selectors


class Command(BaseCommand):
    help = (
        "Queue the next step again for failed photos and for pending photos whose pipeline has "
        "not moved for --idle-minutes (e.g. the broker was down when they were imported)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--idle-minutes", type=float, default=30)

    def handle(self, *args, idle_minutes, **options):
        idle_since = timezone.now() - timedelta(minutes=idle_minutes)
        resumed = pipeline_resume(photo_ids=selectors.photo_ids_stalled(idle_since=idle_since))
        self.stdout.write(self.style.SUCCESS(f"Queued {resumed} photos again."))
