"""Writes for cities and photos: the catalog, creating photos, storing what the analysis steps
produce and record (ingest/ runs them), scores, and publishing into the global queue.

``photo_publish`` (called by the pipeline's publish step) is the only way into the deck;
scoring writes arrays and never publishes (see docs/ARCHITECTURE.md)."""

import math
import uuid
from collections.abc import Iterable, Sequence

from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError

from . import selectors
from .models import City, ImportBatch, Photo

PROBABILITY_SUM_TOLERANCE = 1e-3


class NotPublishable(Exception):
    """The photo left its pipeline (rejected, a duplicate): ``status`` and ``reason`` say how."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def random_file_name(extension: str = "") -> str:
    """A stored file's name: random (nobody can guess the next one), with the given extension."""
    return f"{uuid.uuid4().hex}{extension}"


def city_catalog_sync(*, rows: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """Create missing cities and rename changed ones; returns (created, renamed)."""
    created = renamed = 0
    with transaction.atomic():
        existing = {city.slug: city for city in City.objects.all()}
        for slug, name in rows:
            city = existing.get(slug)
            if city is None:
                City.objects.create(slug=slug, name=name)
                created += 1
            elif city.name != name:
                city.name = name
                city.save(update_fields=["name"])
                renamed += 1
    return created, renamed


def photo_create(
    *,
    pipeline: str,
    first_step: str,
    image_url: str = "",
    image_file: File | None = None,
    city: City | None = None,
    source: str = "",
    is_synthetic: bool = False,
    batch: ImportBatch | None = None,
) -> Photo:
    """Create a pending photo waiting at ``first_step`` of its pipeline (ingest.runner queues it).
    An uploaded file is kept in the private storage, under a random name, only until the validate
    step has decoded it."""
    if not image_url and image_file is None:
        raise ApplicationError("A photo needs an image file or an image URL.")
    photo = Photo(
        image_url=image_url,
        city=city,
        source=source,
        is_synthetic=is_synthetic,
        batch=batch,
        pipeline=pipeline,
        pipeline_step=first_step,
    )
    if image_file is not None:
        photo.incoming.save(random_file_name(), image_file, save=False)
    photo.save()
    return photo


def _validated_probabilities(probabilities: Sequence[float], class_count: int) -> list[float]:
    values = [float(value) for value in probabilities]
    if len(values) != class_count:
        raise ValueError(
            f"Expected {class_count} probabilities (one per class), got {len(values)}."
        )
    if any(not math.isfinite(value) or value < 0 for value in values):
        raise ValueError("Probabilities must be finite and non-negative.")
    if abs(sum(values) - 1.0) > PROBABILITY_SUM_TOLERANCE:
        raise ValueError(f"Probabilities must sum to 1, not {sum(values):.6f}.")
    return values


def photos_record_scores(*, scores: dict[int, Sequence[float]], model_version) -> int:
    """Store a model version's probability arrays on photos ({photo id: array}) in one
    transaction. Never publishes: only the pipeline's publish step does. Every array is checked
    before anything is written. Returns how many photos were updated (deleted ones are
    skipped)."""
    validated = {
        photo_id: _validated_probabilities(probabilities, len(model_version.classes))
        for photo_id, probabilities in scores.items()
    }
    with transaction.atomic():
        photos = list(Photo.objects.select_for_update().filter(pk__in=validated).order_by("pk"))
        for photo in photos:
            photo.probabilities = validated[photo.pk]
            photo.model_version = model_version
            photo.updated_at = timezone.now()
        Photo.objects.bulk_update(photos, ["probabilities", "model_version", "updated_at"])
    return len(photos)


def _save_with_next_queue_position(photo: Photo, attempts: int = 5) -> None:
    """Concurrent publishers can pick the same position; the unique index rejects the loser,
    which takes the next one."""
    for attempt in range(attempts):
        photo.queue_position = selectors.queue_end()
        try:
            with transaction.atomic():
                photo.save()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise


def photo_mark_pending(*, photo_id: int, reason: str) -> None:
    Photo.objects.filter(pk=photo_id, status=Photo.Status.PENDING).update(status_reason=reason)


def photo_reject(*, photo_id: int, reason: str) -> bool:
    """Take a photo out of the deck, and out of its pipeline if it is still in one. Its swipes
    stay in people's history. Returns whether the photo changed (False: rejected before, or
    gone)."""
    changed = (
        Photo.objects.filter(pk=photo_id)
        .exclude(status=Photo.Status.REJECTED)
        .update(
            status=Photo.Status.REJECTED,
            status_reason=reason,
            pipeline_step="",
            updated_at=timezone.now(),
        )
    )
    return changed == 1


def photo_publish(*, photo_id: int) -> int:
    """Put a pending photo with a stored, re-encoded image and a probability array into the deck
    (the next queue position); idempotent. Returns its queue position. A photo that left its
    pipeline meanwhile (rejected, superseded by a better copy) is not published."""
    with transaction.atomic():
        photo = Photo.objects.select_for_update().get(pk=photo_id)
        if photo.status == Photo.Status.PUBLISHED:
            return photo.queue_position
        if photo.status != Photo.Status.PENDING:
            raise NotPublishable(
                photo.status, photo.status_reason or f"The photo is {photo.status}."
            )
        if photo.probabilities is None or not photo.normalized:
            raise ValueError(
                f"Photo {photo_id} is not validated and scored; it cannot be published."
            )
        photo.status = Photo.Status.PUBLISHED
        photo.status_reason = ""
        _save_with_next_queue_position(photo)
    return photo.queue_position


def _replace_file(photo: Photo, field: str, content: bytes | File, name: str) -> None:
    """Store ``content`` as the photo's file ``field`` under ``name``, deleting the file that was
    there (a step that runs twice leaves one file, not two). The row is updated by the caller."""
    current = getattr(photo, field)
    if current:
        current.delete(save=False)
    body = ContentFile(content) if isinstance(content, bytes) else content
    current.save(name, body, save=False)


def photo_store_incoming(*, photo_id: int, content: bytes) -> None:
    """Keep downloaded bytes for the validate step (never served)."""
    photo = Photo.objects.get(pk=photo_id)
    _replace_file(photo, "incoming", content, random_file_name())
    Photo.objects.filter(pk=photo_id).update(incoming=photo.incoming.name)


def photo_discard_incoming(*, photo_id: int) -> None:
    """Delete received bytes that failed validation: nothing that did not decode is kept."""
    photo = Photo.objects.get(pk=photo_id)
    if photo.incoming:
        photo.incoming.delete(save=False)
        Photo.objects.filter(pk=photo_id).update(incoming="")


def photo_store_validated(
    *,
    photo_id: int,
    image: bytes,
    extension: str,
    normalized: bytes,
    thumbnail: bytes,
    content_sha256: str,
) -> None:
    """Store the validate step's own encodings (the image, a normalised JPEG, a thumbnail) under
    random names, record the received bytes' SHA-256, then delete the received bytes."""
    photo = Photo.objects.get(pk=photo_id)
    _replace_file(photo, "image", image, random_file_name(extension))
    _replace_file(photo, "normalized", normalized, random_file_name(".jpg"))
    _replace_file(photo, "thumbnail", thumbnail, random_file_name(".jpg"))
    received = photo.incoming.name
    Photo.objects.filter(pk=photo_id).update(
        image=photo.image.name,
        normalized=photo.normalized.name,
        thumbnail=photo.thumbnail.name,
        content_sha256=content_sha256,
        incoming="",
    )
    if received:
        photo.incoming.storage.delete(received)


def photo_record_hashes(
    *, photo_id: int, perceptual_hash: str, duplicate_of_id: int | None
) -> None:
    fields = {"perceptual_hash": perceptual_hash}
    if duplicate_of_id is not None:
        fields |= {
            "duplicate_of_id": duplicate_of_id,
            "status": Photo.Status.DUPLICATE,
            "status_reason": f"Duplicate of photo #{duplicate_of_id}.",
        }
    Photo.objects.filter(pk=photo_id).update(**fields)


def photo_supersede(*, photo_id: int, by_photo_id: int) -> bool:
    """Mark a photo still on its way to the deck as a duplicate of a larger copy that arrived
    later, and point its own duplicates at that copy, so every duplicate points at a photo that
    is kept. False (nothing changed) when the photo is no longer pending, e.g. published."""
    with transaction.atomic():
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is None or photo.status != Photo.Status.PENDING:
            return False
        photo.status = Photo.Status.DUPLICATE
        photo.status_reason = f"Duplicate of photo #{by_photo_id}, a larger copy."
        photo.duplicate_of_id = by_photo_id
        photo.pipeline_step = ""
        photo.save(
            update_fields=[
                "status", "status_reason", "duplicate_of", "pipeline_step", "updated_at"
            ]
        )  # fmt: skip
        Photo.objects.filter(duplicate_of_id=photo_id).update(duplicate_of_id=by_photo_id)
    return True
