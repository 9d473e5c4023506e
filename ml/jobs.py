"""Training jobs started from the admin: checking what is asked and queuing the run
(training_job_start), cancelling (training_job_cancel), and the Celery task. The run itself is
ml.job_runner.training_job_run.

Where a job runs, never in the request that started it: with a broker, in a worker, as the task
``ml.tasks.run_training_job`` on the ml queue; in the embedded default (Celery eager, no broker)
in a daemon thread of the process, one job at a time (ML_TRAINING_IN_THREAD); with that setting
off (the tests), eagerly in-process right after the commit."""

import threading
from datetime import UTC, datetime

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import connections, transaction
from django.db.models import Count
from django.utils import timezone

from core.errors import ApplicationError, ConflictError, NotFoundError
from photos import selectors as photo_selectors

from . import selectors
from .backbones import BACKBONE_NAMES
from .job_runner import training_job_run
from .models import TrainingJob

IMAGE_SIZES = (32, 512)
EPOCHS = (1, 500)
MIXED_STYLES = (0, 5000)
# The attribute model is a head on this pretrained backbone (ml.attributes.make_model).
ATTRIBUTE_BACKBONE = "efficientnetlite0"
# Thread mode trains one job at a time per process; the others wait, queued.
_thread_lock = threading.Lock()


def training_job_start(
    *,
    user,
    kind: str,
    name: str,
    backbone: str,
    weights: str | None,
    image_size: int,
    epochs: int,
    cities: list[str],
    mixed_styles: int = 0,
) -> TrainingJob:
    """Check a training request and create its job (queued); the run is queued after commit.
    ``name`` empty: ``<backbone>-<timestamp>`` (city) or ``attributes-<timestamp>``. ``cities``
    empty: every city with photos (a city model; the attribute model trains on the demo's
    cities). ``weights``: "imagenet" or None (from scratch)."""
    if kind not in TrainingJob.Kind.values:
        raise ApplicationError(
            f"Unknown kind '{kind}'; choose one of {', '.join(TrainingJob.Kind.values)}."
        )
    if backbone not in BACKBONE_NAMES:
        raise ApplicationError(
            f"Unknown backbone '{backbone}'; choose one of {', '.join(sorted(BACKBONE_NAMES))}."
        )
    weights = None if weights in (None, "", "none") else weights
    if weights != "imagenet" and weights is not None:
        raise ApplicationError("weights must be 'imagenet' or null (train from scratch).")
    _check_range("image_size", image_size, IMAGE_SIZES)
    _check_range("epochs", epochs, EPOCHS)
    _check_range("mixed_styles", mixed_styles, MIXED_STYLES)
    cities = sorted(set(cities))
    unknown = sorted(set(cities) - set(photo_selectors.city_names_by_slug()))
    if unknown:
        raise ApplicationError(f"Unknown cities: {', '.join(unknown)}.")
    if kind == TrainingJob.Kind.CITY:
        _check_city_photos(cities)
    else:
        _check_attribute_request(backbone, weights)
    name = name.strip() or _default_name(kind, backbone)
    _check_name(name)
    with transaction.atomic():
        job = TrainingJob.objects.create(
            kind=kind,
            name=name,
            params={
                "backbone": backbone,
                "weights": weights,
                "image_size": image_size,
                "epochs": epochs,
                "cities": cities,
                "mixed_styles": mixed_styles if kind == TrainingJob.Kind.ATTRIBUTES else 0,
            },
            epochs=epochs,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        transaction.on_commit(lambda: training_job_queue(job_id=job.pk), robust=True)
    return job


def training_job_cancel(*, job_id: int) -> TrainingJob:
    """Ask a job to stop: a queued one is cancelled at once, a running one stops at its next
    photo or epoch (ml.job_runner). A finished job is a conflict."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            raise NotFoundError(f"Training job {job_id} does not exist.")
        if job.status in TrainingJob.FINISHED:
            raise ConflictError(f"Training job {job_id} has {job.status}; nothing to cancel.")
        job.cancel_requested = True
        fields = ["cancel_requested"]
        if job.status == TrainingJob.Status.QUEUED:
            job.status, job.finished_at = TrainingJob.Status.CANCELLED, timezone.now()
            fields += ["status", "finished_at"]
        job.save(update_fields=fields)
    return job


def training_job_queue(*, job_id: int) -> None:
    """Run a job outside the request: the Celery task with a broker; without one, a daemon
    thread (ML_TRAINING_IN_THREAD) or, that setting off, eagerly here and now."""
    if not settings.CELERY_TASK_ALWAYS_EAGER or not settings.ML_TRAINING_IN_THREAD:
        run_training_job.delay(job_id)
        return
    thread = threading.Thread(
        target=_run_in_thread, args=(job_id,), name=f"training-job-{job_id}", daemon=True
    )
    thread.start()


def _run_in_thread(job_id: int) -> None:
    try:
        with _thread_lock:
            training_job_run(job_id=job_id)
    finally:
        connections.close_all()  # this thread's own connections, not the request's


@shared_task(
    name="ml.tasks.run_training_job",
    acks_late=True,  # a redelivered job that is no longer queued is not run again
    time_limit=settings.ML_TRAINING_TIME_LIMIT,
    soft_time_limit=max(settings.ML_TRAINING_TIME_LIMIT - 60, 1),  # then marked failed
)
def run_training_job(job_id: int) -> None:
    training_job_run(job_id=job_id)


def _check_range(field: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApplicationError(f"{field} must be a whole number from {low} to {high}.")


def _check_city_photos(cities: list[str]) -> None:
    photos = photo_selectors.photos_for_training()
    if cities:
        photos = photos.filter(city__slug__in=cities)
    rows = photos.order_by().values("city__slug").annotate(count=Count("pk"))
    counts = {row["city__slug"]: row["count"] for row in rows}
    trainable = sorted(slug for slug, count in counts.items() if count >= 2)
    if len(trainable) < 2:
        found = ", ".join(f"{slug} {count}" for slug, count in sorted(counts.items())) or "none"
        raise ApplicationError(
            "A city model needs at least 2 cities with 2 or more stored labelled photos each "
            f"(photos per city: {found})."
        )


def _check_attribute_request(backbone: str, weights: str | None) -> None:
    from .attribute_versions import demo_training_cities

    if backbone != ATTRIBUTE_BACKBONE or weights != "imagenet":
        raise ApplicationError(
            f"The attribute model trains on the ImageNet-pretrained {ATTRIBUTE_BACKBONE} only: "
            f"send backbone '{ATTRIBUTE_BACKBONE}' and weights 'imagenet'."
        )
    if not demo_training_cities():
        raise ApplicationError(
            "No stored photos of the demo's cities to train an attribute model on "
            "(seed_demo first)."
        )


def _check_name(name: str) -> None:
    try:
        validate_slug(name)
    except ValidationError:
        raise ApplicationError(
            f"'{name}' is not a valid version name: letters, digits, '-' and '_' only."
        ) from None
    if len(name) > 64:
        raise ApplicationError("A version name has at most 64 characters.")
    if selectors.training_job_name_taken(name=name):
        raise ApplicationError(
            f"The name '{name}' is taken: a model version or a queued or running training job "
            "has it."
        )


def _default_name(kind: str, backbone: str) -> str:
    prefix = backbone if kind == TrainingJob.Kind.CITY else "attributes"
    return f"{prefix}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
