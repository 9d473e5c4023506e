"""The pipeline runner and its Celery task: a photo enters (``photo_ingest``), each step runs as
one task (``run_pipeline_step``), records its result through photos' services and queues the
next after commit; transient failures are retried, then the photo is failed; ``pipeline_resume``
queues failed and stalled photos again."""

import logging
import random
import time

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.db import transaction

from core import metrics
from core.errors import ApplicationError
from photos import records
from photos import selectors as photo_selectors
from photos import services as photo_services
from photos.models import City, ImportBatch, Photo

from . import batching, urls
from . import pipeline as pipeline_steps
from .jobs import PAUSED_REASON, ingestion_paused

logger = logging.getLogger(__name__)


def photo_ingest(
    *,
    image_url: str = "",
    image_file: File | None = None,
    city: City | None = None,
    source: str = "",
    is_synthetic: bool = False,
    batch: ImportBatch | None = None,
    pipeline: str = Photo.Pipeline.IMPORT,
) -> Photo:
    """A new photo at the first step of its pipeline, queued once the transaction commits. A URL
    is checked with the fetcher's own parser: what is accepted here is what will be fetched."""
    if image_url and (problem := urls.url_problem(image_url)):
        raise ApplicationError(problem)
    with transaction.atomic():
        photo = photo_services.photo_create(
            pipeline=pipeline,
            first_step=pipeline_steps.step_names(pipeline)[0],
            image_url=image_url,
            image_file=image_file,
            city=city,
            source=source,
            is_synthetic=is_synthetic,
            batch=batch,
        )
        # robust: a broker outage must not turn a committed upload into an error; the photo
        # stays pending and `manage.py resume_pipeline` picks it up later.
        transaction.on_commit(lambda: queue_step(photo.pk, photo.pipeline_step), robust=True)
    return photo


def queue_step(photo_id: int, step: str, countdown: float | None = None) -> None:
    run_pipeline_step.apply_async(
        (photo_id, step), queue=pipeline_steps.queue_for(step), countdown=countdown
    )


def _retry_later(photo_id: int, step: str) -> None:
    """A step that failed transiently where this task had carried the photo (a task of its own
    is needed there): queued after the first backoff, with its own retries."""
    queue_step(photo_id, step, countdown=backoff_seconds(0))


def pipeline_run_step(*, photo_id: int, step: str, redelivered: bool = False) -> str | None:
    """Run one step of one photo and the steps after it on the same queue (one task, no round
    trip between them; each step recorded before the next runs), then hand on to the next queue.
    A batched step (the model steps) runs for every photo waiting at it (ingest/batching.py).

    Returns the step this task left the photo at, handed on to another queue ("" when it left
    its pipeline), or None when there was nothing to do: the photo is gone or left its pipeline
    (rejected by an admin, superseded by a better copy), or this step ran already (in another
    task's batch, or a redelivered task), or ingestion is paused (the photo waits at its step).
    TransientStepError at ``step`` propagates, for the task to retry."""
    photo = photo_selectors.photo_in_pipeline(photo_id=photo_id)
    if photo is None:
        return None
    if photo.pipeline_step != step:
        # A redelivered task (its worker died after recording the step). If that worker died
        # before handing on, the next step was never queued: queue it again (steps are
        # idempotent, so a second run of an already queued step is harmless). Not for a task
        # whose step another task's batch ran: that batch handed the photo on.
        names = pipeline_steps.step_names(photo.pipeline)
        if (
            redelivered
            and photo.pipeline_step in names
            and step in names
            and names.index(photo.pipeline_step) > names.index(step)
        ):
            queue_step(photo_id, photo.pipeline_step)
        return None
    if ingestion_paused():
        # Paused on the jobs page: the photo waits at this step, saying why; resuming
        # (ingest.switch.ingestion_resume) queues it again. A task that started before the pause
        # finishes its steps on this queue (a batch its current step).
        photo_services.photo_mark_pending(photo_id=photo_id, reason=PAUSED_REASON)
        return None
    first_step, queue = step, pipeline_steps.queue_for(step)
    left_at = None
    while True:
        function = pipeline_steps.step_function(photo.pipeline, step)
        if pipeline_steps.batch_function(function):
            try:
                following, error = batching.batch_chain_run(
                    photo=photo,
                    step=step,
                    hand_on=queue_step,
                    retry_later=_retry_later,
                    crashed=step_crashed,
                )
            except Exception as crash:
                if step == first_step:
                    raise  # the task marks the photo failed at its step
                step_crashed(photo_ids=[photo_id], step=step, error=crash)
                return left_at
            if error is not None and step == first_step:
                raise error
            if error is not None:
                _retry_later(photo_id, step)
            return following if following is not None else left_at
        following = pipeline_steps.next_step(photo.pipeline, step)
        carry_on = bool(following) and pipeline_steps.queue_for(following) == queue
        try:
            recorded, photo = _run_one(photo, step, function, following, hand_on=not carry_on)
        except pipeline_steps.TransientStepError:
            if step == first_step:
                raise
            _retry_later(photo_id, step)
            return left_at
        except Exception as error:
            if step == first_step:
                raise  # the task marks the photo failed at its step
            step_crashed(photo_ids=[photo_id], step=step, error=error)
            return left_at
        if recorded is not None:
            left_at = recorded
        if not recorded or not carry_on:
            return left_at
        step = following


def _run_one(
    photo: Photo, step: str, function, following: str, hand_on: bool
) -> tuple[str | None, Photo | None]:
    """Run one single-photo step and record it; the photo's next step ("" when it left its
    pipeline) and the photo as recorded, or (None, None) when a concurrent run recorded it
    first. With ``hand_on``, the next step is queued once the record commits."""
    started = time.perf_counter()
    try:
        output, stop = function(photo), None
    except pipeline_steps.StopPipeline as signal:
        output, stop = signal.output, signal
    seconds = time.perf_counter() - started
    metrics.PIPELINE_STEPS.labels(step=step, outcome="stopped" if stop else "next").observe(seconds)
    record = {
        "output": output,
        "duration_ms": round(seconds * 1000, 1),
        "error": stop.reason if stop else None,
    }
    goes_to = "" if stop else following
    with transaction.atomic():
        recorded = records.photo_record_step(
            photo_id=photo.pk,
            step=step,
            record=record,
            next_step=goes_to,
            stop=(stop.status, stop.reason) if stop else None,
        )
        if recorded is None:
            return None, None  # a concurrent run of the same step recorded it first
        if goes_to and hand_on:
            wait = pipeline_steps.batch_wait(photo.pipeline, goes_to)
            transaction.on_commit(lambda: queue_step(photo.pk, goes_to, wait), robust=True)
    return goes_to, recorded


def step_crashed(*, photo_ids: list[int], step: str, error: Exception) -> None:
    """A step raised something unexpected: the photos are marked failed at that step (each
    only if it is still there), with the traceback in the log."""
    logger.exception("pipeline step crashed", extra={"photos": photo_ids, "step": step})
    for photo_id in photo_ids:
        records.photo_record_failure(
            photo_id=photo_id, step=step, error=f"{type(error).__name__}: {error}"
        )


def pipeline_resume(*, photo_ids: list[int]) -> int:
    """Queue the pending step of failed or stalled photos again; returns how many."""
    with transaction.atomic():
        resumable = records.photos_back_to_pending(photo_ids=photo_ids)
        for photo_id, step in resumable:
            transaction.on_commit(lambda p=photo_id, s=step: queue_step(p, s), robust=True)
    return len(resumable)


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
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    try:
        return pipeline_run_step(photo_id=photo_id, step=step, redelivered=redelivered)
    except pipeline_steps.TransientStepError as error:
        limit = settings.PHOTO_STEP_MAX_RETRIES
        if self.request.retries >= limit:
            tries = self.request.retries + 1
            logger.warning("pipeline step failed for good", extra={"photo": photo_id, "step": step})
            records.photo_record_failure(
                photo_id=photo_id,
                step=step,
                error=f"{error} (failed after {tries} {'try' if tries == 1 else 'tries'})",
            )
            return None
        if self.request.is_eager:  # in-process (no broker): try again at once, no sleeping
            retry = run_pipeline_step.apply((photo_id, step), retries=self.request.retries + 1)
            # Already computed; in the web process's background thread Celery would otherwise
            # refuse a .get() inside a task (cityvibes/background.py).
            return retry.get(disable_sync_subtasks=False)
        raise self.retry(
            exc=error, countdown=backoff_seconds(self.request.retries), max_retries=limit
        ) from error
    except Exception as error:
        step_crashed(photo_ids=[photo_id], step=step, error=error)
        return None
