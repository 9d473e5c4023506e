"""Micro-batches: a batched step (``@batched`` in ingest/pipeline.py: the model steps) runs on every
photo waiting at it, up to PHOTO_PIPELINE_BATCH_SIZE, in one call, so a model predicts once per
batch instead of once per photo; then the batch goes on together through the following steps on
the same queue, with no task round trip between them. A photo's task for a batched step is
delivered PHOTO_PIPELINE_BATCH_WAIT_MS late (ingest.pipeline.batch_wait), so the photos behind it
arrive meanwhile: the short wait costs the broker, not a worker.

The guarantees of one task per step hold:
- Claimed photos are row-locked for the whole step (PostgreSQL: the transaction spans the predict
  and the records), so two batches never take the same photo; a photo's own task, when it comes,
  finds its step recorded and does nothing (or waits for the batch holding it, then does).
- Kill-safe and idempotent: a step's results for the batch commit together or not at all. A
  batch killed mid-step leaves its photos at that step, for their own tasks (or the killed task,
  delivered again) to run.
- Each step is recorded before the next runs; a photo that failed transiently at a step it was
  carried to (no task of its own there) gets a task of its own, after a backoff; one whose step
  crashed there is marked failed at that step, as its own task would have.
"""

import contextlib
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction

from core import metrics
from photos import records
from photos import services as photo_services
from photos.models import Photo

from . import pipeline as pipeline_steps
from .jobs import PAUSED_REASON, ingestion_paused


def _per_photo(function):
    """Run a single-photo step on each photo of a batch (publish, after the model steps)."""

    def many(photos: list[Photo]) -> dict[int, dict | Exception]:
        outcomes = {}
        for photo in photos:
            try:
                outcomes[photo.pk] = function(photo)
            except (pipeline_steps.StopPipeline, pipeline_steps.TransientStepError) as error:
                outcomes[photo.pk] = error
        return outcomes

    return many


def _claim(step: str, pipeline: str, photo_ids: tuple[int, ...]) -> list[Photo]:
    return records.photos_claim_at_step(
        step=step,
        pipeline=pipeline,
        photo_ids=photo_ids,
        fill=settings.PHOTO_PIPELINE_BATCH_SIZE - len(photo_ids),
    )


def _record(photos, outcomes, step, seconds, following) -> tuple[dict[int, str], dict]:
    """Record each photo's outcome; returns {photo id: the step it is at now ("" when it left
    its pipeline)} for the photos recorded, and {photo id: transient error} for those that stay
    at ``step``."""
    recorded, transient = {}, {}
    for photo in photos:
        outcome = outcomes[photo.pk]
        if isinstance(outcome, pipeline_steps.TransientStepError):
            transient[photo.pk] = outcome
            continue
        stop = outcome if isinstance(outcome, pipeline_steps.StopPipeline) else None
        metrics.PIPELINE_STEPS.labels(step=step, outcome="stopped" if stop else "next").observe(
            seconds / len(photos)
        )
        record = {
            "output": stop.output if stop else outcome,
            "duration_ms": round(seconds * 1000 / len(photos), 1),
            "error": stop.reason if stop else None,
            "batch_size": len(photos),
        }
        goes_to = "" if stop else following
        if records.photo_record_step(
            photo_id=photo.pk,
            step=step,
            record=record,
            next_step=goes_to,
            stop=(stop.status, stop.reason) if stop else None,
        ):
            recorded[photo.pk] = goes_to
    return recorded, transient


def batch_chain_run(
    *, photo: Photo, step: str, hand_on: Callable, retry_later: Callable, crashed: Callable
) -> tuple[str | None, Exception | None]:
    """Run ``step`` (a batched one) for ``photo`` and the photos waiting with it, then carry the
    batch on through the following steps of the same queue. ``hand_on(photo_id, step)`` queues a
    photo's next step on another queue, ``retry_later(photo_id, step)`` queues a step after a
    backoff, ``crashed(photo_ids=, step=, error=)`` fails the photos this task carried to a step
    that raised.

    Returns the step the task's photo was left at (as pipeline_run_step does; None when this
    batch recorded nothing for it) and its transient error at ``step``, for its task to retry
    counting its tries."""
    pipeline, queue = photo.pipeline, pipeline_steps.queue_for(step)
    mine = (photo.pk,)  # the batch's own photos: the task's, then those it carried on
    own_next, own_error, first = None, None, True
    while step:
        if not first and ingestion_paused():  # (the runner checked before the first step)
            for photo_id in mine:
                photo_services.photo_mark_pending(photo_id=photo_id, reason=PAUSED_REASON)
            break
        function = pipeline_steps.step_function(pipeline, step)
        many = pipeline_steps.batch_function(function) or _per_photo(function)
        following = pipeline_steps.next_step(pipeline, step)
        carry_on = bool(following) and pipeline_steps.queue_for(following) == queue
        # PostgreSQL holds the claim's row locks through the predict; SQLite (one writer: the
        # embedded default's one background thread) computes outside the write transaction.
        hold = connection.vendor == "postgresql"
        try:
            with transaction.atomic() if hold else contextlib.nullcontext():
                photos = _claim(step, pipeline, mine)
                if not photos:
                    break
                started = time.perf_counter()
                outcomes = many(photos)
                seconds = time.perf_counter() - started
                with transaction.atomic():
                    recorded, transient = _record(photos, outcomes, step, seconds, following)
                    for photo_id, goes_to in recorded.items():
                        if goes_to and not carry_on:
                            transaction.on_commit(
                                lambda p=photo_id, s=following: hand_on(p, s), robust=True
                            )
                    for photo_id, error in transient.items():
                        if first and photo_id == photo.pk:
                            own_error = error
                        elif not first:  # carried here by this task: it has no task of its own here
                            transaction.on_commit(
                                lambda p=photo_id, s=step: retry_later(p, s), robust=True
                            )
        except Exception as error:
            if first:
                raise  # the task marks its photo failed; the others wait for their own tasks
            crashed(photo_ids=list(mine), step=step, error=error)
            break
        if photo.pk in recorded:
            own_next = recorded[photo.pk]
        mine = tuple(p for p, goes_to in recorded.items() if goes_to) if carry_on else ()
        step, first = following, False
        if not mine:
            break
    return own_next, own_error
