"""Running a training job (ml.jobs queues it): load the photos with per-photo progress, train
through the existing services (ml.versions, ml.attribute_versions) with an epoch callback that
records the curves, the throughput and the time left on the job's row and stops the training
when a cancel was requested, then evaluate and link the new version. Every ending is written:
succeeded, cancelled or failed with the error; a job that is not queued is not run again."""

import logging
import math
import time

import numpy as np
from django.db import transaction
from django.utils import timezone

from photos import selectors as photo_selectors

from .models import ModelVersion, TrainingJob

logger = logging.getLogger(__name__)

LOADING, TRAINING, EVALUATING, SAVING = "loading photos", "training", "evaluating", "saving"
# Fresh held-out synthetic photos per city when a new version is evaluated.
EVALUATE_PER_CITY = 10
# While loading photos, the row is written at most this often (and after the last photo).
PROGRESS_INTERVAL_SECONDS = 1.0
CURVES = {
    TrainingJob.Kind.CITY: ("loss", "val_loss", "accuracy", "val_accuracy"),
    TrainingJob.Kind.ATTRIBUTES: ("loss", "val_loss", "auc", "val_auc"),
}


class TrainingCancelled(Exception):
    """Raised from a progress callback when the job's cancel was requested: it unwinds Keras's
    fit and the training service, which marks its half-made version failed."""


def training_job_run(*, job_id: int) -> None:
    """Run a queued job to its end. A job that is gone or not queued (cancelled before it
    started, or a redelivered task) is left alone."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != TrainingJob.Status.QUEUED:
            return
        job.status, job.started_at, job.phase = TrainingJob.Status.RUNNING, timezone.now(), LOADING
        job.save(update_fields=["status", "started_at", "phase"])
    progress = _Progress(job)
    try:
        if ModelVersion.objects.filter(name=job.name).exists():
            raise ValueError(f"A model version named '{job.name}' exists already.")
        train = _train_city if job.kind == TrainingJob.Kind.CITY else _train_attributes
        version = train(job, progress)
    except TrainingCancelled:
        _discard_unfinished_version(job)
        _finish(job, TrainingJob.Status.CANCELLED)
    except Exception as error:
        logger.exception("training job %s failed", job.pk)
        _discard_unfinished_version(job)
        message = str(error) or error.__class__.__name__
        if error.__class__.__name__ == "SoftTimeLimitExceeded":
            message = "The training ran past the task's time limit (ML_TRAINING_TIME_LIMIT)."
        _finish(job, TrainingJob.Status.FAILED, error=message)
    else:
        _finish(job, TrainingJob.Status.SUCCEEDED, version=version)


def _save(job: TrainingJob, **fields) -> None:
    for field, value in fields.items():
        setattr(job, field, value)
    job.save(update_fields=list(fields))


def _check_cancel(job: TrainingJob) -> None:
    # Re-read: the cancel is written by another process (the admin's request).
    if TrainingJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
        raise TrainingCancelled


def _finish(job: TrainingJob, status: str, *, error: str = "", version=None) -> None:
    fields = {"status": status, "finished_at": timezone.now(), "eta_seconds": None}
    if status == TrainingJob.Status.SUCCEEDED:
        fields.update(model_version=version, phase="")
    if error:
        fields["error"] = error
    _save(job, **fields)


def _discard_unfinished_version(job: TrainingJob) -> None:
    """Delete the version this run began and did not finish (a ready one is kept: only its
    evaluation failed), so the name is free to try again."""
    ModelVersion.objects.filter(name=job.name, created_at__gte=job.started_at).exclude(
        status=ModelVersion.Status.READY
    ).delete()


class _Progress:
    """Writes a job's progress: photos loaded, then one history entry per epoch."""

    def __init__(self, job: TrainingJob):
        self.job = job
        self.started = time.monotonic()
        self.training_started = None
        self.photo_count = 0

    def loading(self, loaded: int, total: int, began: float) -> None:
        rate = loaded / max(time.monotonic() - began, 1e-6)
        _save(
            self.job,
            photos_loaded=loaded,
            photos_per_second=round(rate, 2),
            eta_seconds=round((total - loaded) / rate, 1),
        )
        _check_cancel(self.job)

    def start_training(self, *, photo_count: int, epochs: int) -> None:
        self.photo_count = photo_count
        self.training_started = time.monotonic()
        _save(
            self.job,
            phase=TRAINING,
            epoch=0,
            epochs=epochs,
            photos_per_second=0.0,
            eta_seconds=None,
        )

    def epoch_done(self, epoch: int, logs: dict) -> None:
        now = time.monotonic()
        seconds = max(now - self.training_started, 1e-6)
        entry = {"epoch": epoch}
        for key in CURVES[self.job.kind]:
            value = logs.get(key)
            entry[key] = float(value) if value is not None and math.isfinite(value) else None
        entry["seconds"] = round(now - self.started, 2)
        epochs = self.job.epochs
        fields = {
            "epoch": epoch,
            "history": [*self.job.history, entry],
            "photos_per_second": round(self.photo_count * epoch / seconds, 2),
            "eta_seconds": round(max(epochs - epoch, 0) * seconds / epoch, 1),
        }
        if epoch >= epochs:
            fields["phase"] = SAVING
        _save(self.job, **fields)
        _check_cancel(self.job)


def _load_city_photos(job: TrainingJob, progress: _Progress) -> tuple[np.ndarray, list[str]]:
    from photos.images import load_pixels

    photos = photo_selectors.photos_for_training()
    if job.params.get("cities"):
        photos = photos.filter(city__slug__in=job.params["cities"])
    total = photos.count()
    _save(job, photos_total=total, photos_loaded=0)
    pixels, slugs = [], []
    began = last_write = time.monotonic()
    for loaded, photo in enumerate(photos.iterator(chunk_size=500), start=1):
        try:
            with photo.image.open("rb") as handle:
                pixels.append(load_pixels(handle, job.params["image_size"]))
            slugs.append(photo.city.slug)
        except (OSError, ValueError) as error:
            logger.warning("training job %s: photo %s skipped: %s", job.pk, photo.pk, error)
        if time.monotonic() - last_write >= PROGRESS_INTERVAL_SECONDS or loaded == total:
            progress.loading(loaded, total, began)
            last_write = time.monotonic()
    if not pixels:
        raise ValueError("No labelled photos with stored images to train on.")
    return np.stack(pixels), slugs


def _train_city(job: TrainingJob, progress: _Progress) -> ModelVersion:
    from . import versions
    from .synthetic import DEMO_CITIES
    from .training import TrainingConfig

    params = job.params
    config = TrainingConfig(
        backbone=params["backbone"],
        image_size=params["image_size"],
        weights=params["weights"],
        head_epochs=params["epochs"],
        finetune_epochs=0,
    )
    pixels, slugs = _load_city_photos(job, progress)
    progress.start_training(photo_count=len(slugs), epochs=config.head_epochs)
    offsets = {"head": 0, "finetune": config.head_epochs}

    def on_epoch(phase, epoch, epochs, logs):
        progress.epoch_done(offsets.get(phase, 0) + epoch, logs)

    version = versions.model_version_train(
        name=job.name, config=config, pixels=pixels, slugs=slugs, on_epoch=on_epoch
    )
    if set(version.classes) <= set(DEMO_CITIES):  # fresh photos can only be drawn of these
        _save(job, phase=EVALUATING, eta_seconds=None)
        versions.model_version_evaluate_synthetic(version_id=version.pk, per_city=EVALUATE_PER_CITY)
    return version


def _train_attributes(job: TrainingJob, progress: _Progress) -> ModelVersion:
    from . import attribute_versions
    from .attributes import AttributeConfig

    params = job.params
    config = AttributeConfig(image_size=params["image_size"], epochs=params["epochs"])
    mixed = params.get("mixed_styles", 0)
    began = time.monotonic()
    pixels, labels, _problems = attribute_versions.attribute_data_from_demo(
        image_size=config.image_size, mixed_styles=mixed, seed=config.seed
    )
    _save(
        job,
        photos_total=len(labels),
        photos_loaded=len(labels),
        photos_per_second=round(len(labels) / max(time.monotonic() - began, 1e-6), 2),
    )
    _check_cancel(job)
    progress.start_training(photo_count=len(labels), epochs=config.epochs)
    version = attribute_versions.model_version_train_attributes(
        name=job.name,
        config=config,
        pixels=pixels,
        labels=labels,
        source=(
            "demo photos, labelled by ml/data/demo_city_styles.json, and "
            f"{mixed} photos drawn in mixed styles (training job {job.pk})"
        ),
        cities=attribute_versions.demo_training_cities(),
        on_epoch=lambda epoch, epochs, logs: progress.epoch_done(epoch, logs),
    )
    _save(job, phase=EVALUATING, eta_seconds=None)
    attribute_versions.attribute_version_evaluate_synthetic(
        version_id=version.pk, per_city=EVALUATE_PER_CITY
    )
    return version
