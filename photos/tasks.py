"""Celery tasks of the photos app: the analysis pipeline (one task run per step) and unpacking
an uploaded archive."""

import logging
import random

from celery import shared_task
from django.conf import settings

from . import archives, services
from .pipeline import TransientStepError

logger = logging.getLogger(__name__)


def backoff_seconds(retries: int) -> float:
    """Exponential backoff with jitter: about 1, 2, 4 ... seconds, at most 60."""
    return min(60.0, 2.0**retries) * random.uniform(0.5, 1.5)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,  # a killed worker's step is delivered again, not lost
)
def run_pipeline_step(self, photo_id: int, step: str) -> str | None:
    """Run one step. A transient error is retried PHOTO_STEP_MAX_RETRIES times (the one limit:
    it is passed to Celery's retry too), then the photo is recorded as failed after that many
    tries, a warning rather than a crash. A step that crashes marks the photo failed at once
    (here, not in an on_failure hook, which in-process tasks never reach), with the traceback in
    the log."""
    try:
        return services.pipeline_run_step(photo_id=photo_id, step=step)
    except TransientStepError as error:
        limit = settings.PHOTO_STEP_MAX_RETRIES
        if self.request.retries >= limit:
            tries = self.request.retries + 1
            logger.warning("pipeline step failed for good", extra={"photo": photo_id, "step": step})
            services.pipeline_fail(
                photo_id=photo_id,
                step=step,
                error=f"{error} (failed after {tries} {'try' if tries == 1 else 'tries'})",
            )
            return None
        if self.request.is_eager:  # in-process (no broker): try again at once, no sleeping
            retry = run_pipeline_step.apply((photo_id, step), retries=self.request.retries + 1)
            return retry.get()
        raise self.retry(
            exc=error, countdown=backoff_seconds(self.request.retries), max_retries=limit
        ) from error
    except Exception as error:
        logger.exception("pipeline step crashed", extra={"photo": photo_id, "step": step})
        services.pipeline_fail(
            photo_id=photo_id, step=step, error=f"{type(error).__name__}: {error}"
        )
        return None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def unpack_import_archive(batch_id: int, city_id: int | None = None) -> None:
    archives.import_archive_unpack(batch_id=batch_id, city_id=city_id)
