"""Writes of the jobs page: pause and resume ingestion (PipelineSwitch), retry failed photos.
While paused the runner leaves each photo pending at its step (ingest.runner.pipeline_run_step);
resuming queues every pending photo again through ``pipeline_resume``."""

from django.db import transaction
from django.utils import timezone

from photos import services as photo_services
from photos.models import Photo

from .jobs import PAUSED_REASON, photo_ids_waiting
from .models import PipelineSwitch
from .runner import pipeline_resume


def _switch_set(*, paused: bool, user=None) -> None:
    PipelineSwitch.objects.update_or_create(
        pk=PipelineSwitch.SINGLETON_ID,
        defaults={"paused": paused, "changed_by": user, "changed_at": timezone.now()},
    )


def ingestion_pause(*, user=None) -> None:
    """Steps stop running: a step queued from now on leaves its photo waiting. A step already
    running finishes (and queues the next, which then waits)."""
    with transaction.atomic():
        _switch_set(paused=True, user=user)


def ingestion_resume(*, user=None) -> int:
    """Steps run again: every pending photo is queued at its step (a photo whose task is still
    queued runs it once; the second run finds the step recorded and does nothing). Returns how
    many photos were queued."""
    with transaction.atomic():
        _switch_set(paused=False, user=user)
        for photo_id in photo_ids_waiting(status=Photo.Status.PENDING, reason=PAUSED_REASON):
            photo_services.photo_mark_pending(photo_id=photo_id, reason="")
        return pipeline_resume(photo_ids=photo_ids_waiting(status=Photo.Status.PENDING))


def photos_retry_failed() -> int:
    """Every failed photo back to pending at the step that failed, and queued; how many."""
    return pipeline_resume(photo_ids=photo_ids_waiting(status=Photo.Status.FAILED))
