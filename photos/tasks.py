"""Celery tasks of the photos app: the analysis pipeline, one task run per step."""

import random

from celery import Task, shared_task
from django.conf import settings

from . import services
from .pipeline import TransientStepError


class PipelineStepTask(Task):
    """A step that crashes (not a transient error) marks the photo failed."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        services.pipeline_fail(photo_id=args[0], step=args[1], error=f"{type(exc).__name__}: {exc}")


def backoff_seconds(retries: int) -> float:
    """Exponential backoff with jitter: about 1, 2, 4 ... seconds, at most 60."""
    return min(60.0, 2.0**retries) * random.uniform(0.5, 1.5)


@shared_task(
    bind=True,
    base=PipelineStepTask,
    acks_late=True,
    reject_on_worker_lost=True,  # a killed worker's step is delivered again, not lost
)
def run_pipeline_step(self, photo_id: int, step: str) -> str | None:
    try:
        return services.pipeline_run_step(photo_id=photo_id, step=step)
    except TransientStepError as error:
        if self.request.retries >= settings.PHOTO_STEP_MAX_RETRIES:
            services.pipeline_fail(photo_id=photo_id, step=step, error=str(error))
            return None
        if self.request.is_eager:  # in-process (no broker): try again at once, no sleeping
            retry = run_pipeline_step.apply((photo_id, step), retries=self.request.retries + 1)
            return retry.get()
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from error
