"""Scoring photos with the city model: the label prior (a stand-in until a CNN is trained),
and probability arrays for the pipeline's score step and for rescoring. Arrays are written
through photos' services, and only while their version is active (``write_while_active``, which
ml.predictions uses for the other kinds too)."""

from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from core import metrics
from photos import selectors as photo_selectors
from photos import services as photo_services
from photos.models import Photo

from .models import ModelVersion
from .selectors import model_version_active

LABEL_PRIOR_NAME = "label-prior-v1"
LABEL_PRIOR_WEIGHT = 0.6


class CatalogChangedError(RuntimeError):
    """The label prior's class list no longer matches the city catalog."""


def model_version_label_prior_ensure() -> ModelVersion:
    """The label-prior version over the whole city catalog; made active if none is."""
    classes = sorted(photo_selectors.city_names_by_slug())
    with transaction.atomic():
        version, created = ModelVersion.objects.get_or_create(
            name=LABEL_PRIOR_NAME,
            defaults={
                "kind": ModelVersion.Kind.CITY,
                "architecture": ModelVersion.Architecture.LABEL_PRIOR,
                "classes": classes,
                "description": (
                    f"No CNN: each photo's array is {LABEL_PRIOR_WEIGHT} on its labelled city "
                    "and the rest spread evenly over the other cities."
                ),
            },
        )
        if not created and version.classes != classes:
            raise CatalogChangedError(
                f"The city catalog changed since {LABEL_PRIOR_NAME} was made; create a new version."
            )
        if model_version_active(ModelVersion.Kind.CITY) is None:
            version.is_active = True
            version.save(update_fields=["is_active"])
    return version


def label_prior_probabilities(*, classes: list[str], city_slug: str) -> list[float]:
    if city_slug not in classes:
        raise ValueError(f"City '{city_slug}' is not one of the model's classes.")
    rest = (1.0 - LABEL_PRIOR_WEIGHT) / (len(classes) - 1)
    return [LABEL_PRIOR_WEIGHT if slug == city_slug else rest for slug in classes]


class CannotScore(Exception):
    """No active version, or it cannot score this photo (yet); the message says why."""


def write_while_active(version: ModelVersion, write) -> None:
    """Run ``write()`` only if ``version`` is still the active version of its kind, holding a
    share lock on its row until it is written: an activation (which updates that row) waits for
    the write to commit and then rescores the photo, or the write sees the new version and
    raises CannotScore to be scored again. No photo keeps the output of a version that went
    out."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT 1 FROM {ModelVersion._meta.db_table} "
                    "WHERE id = %s AND is_active FOR SHARE",
                    [version.pk],
                )
                still_active = cursor.fetchone() is not None
        else:  # SQLite: IMMEDIATE transactions run one at a time
            still_active = ModelVersion.objects.filter(pk=version.pk, is_active=True).exists()
        if not still_active:
            raise CannotScore(f"{version.name} is no longer the active version; score again.")
        write()


def _record_if_still_active(version: ModelVersion, arrays: dict[int, list[float]]) -> None:
    write_while_active(
        version, lambda: photo_services.photos_record_scores(scores=arrays, model_version=version)
    )


def photos_rescore(*, photo_ids: list[int]) -> int:
    """Rescore photos that have an array (in the deck, or past their pipeline's score step)
    with the active version, in one batch; returns how many got its array. Never publishes:
    photos still in the pipeline reach the deck through its publish step only.

    Running twice is harmless: photos already scored by the active version are skipped."""
    version = model_version_active()
    if version is None:
        return 0
    photos = list(photo_selectors.photos_with_arrays(photo_ids=photo_ids).select_related("city"))
    todo = [p for p in photos if p.model_version_id != version.pk]
    if version.architecture == ModelVersion.Architecture.LABEL_PRIOR:
        arrays = _label_prior_arrays(version, todo)
    else:
        arrays = _cnn_arrays(version, todo)
    _record_if_still_active(version, arrays)
    return len(photos) - len(todo) + len(arrays)


@dataclass
class PipelineScores:
    """What one pipeline batch got from a version: each scored photo's output, and why the
    others could not be scored (they stay at their step, to be tried again)."""

    version: ModelVersion
    outputs: dict[int, object]
    problems: dict[int, str]


def scoring_problems(version: ModelVersion, photos: list[Photo], done) -> dict[int, str]:
    return {
        photo.pk: photo_selectors.photo_get(photo_id=photo.pk).status_reason
        or f"{version.name} cannot score this photo."
        for photo in photos
        if photo.pk not in done
    }


def photos_score_for_pipeline(*, photos: list[Photo]) -> PipelineScores:
    """Compute and store the active version's arrays for photos in the pipeline, in one predict,
    without publishing them (the publish step does that). A fresh install has no city model yet:
    the label prior stands in (made active) until one is trained. Raises CannotScore when the
    version went out meanwhile (nothing is stored then)."""
    version = model_version_active() or model_version_label_prior_ensure()
    if version.architecture == ModelVersion.Architecture.LABEL_PRIOR:
        arrays = _label_prior_arrays(version, photos)
    else:
        arrays = _cnn_arrays(version, photos)
    if arrays:
        _record_if_still_active(version, arrays)
    return PipelineScores(version, arrays, scoring_problems(version, photos, arrays))


def _label_prior_arrays(version: ModelVersion, photos: list[Photo]) -> dict[int, list[float]]:
    arrays = {}
    for photo in photos:
        if photo.city is None or photo.city.slug not in version.classes:
            photo_services.photo_mark_pending(
                photo_id=photo.pk,
                reason=f"The label prior needs a city label among the {version.name} classes.",
            )
        else:
            arrays[photo.pk] = label_prior_probabilities(
                classes=version.classes, city_slug=photo.city.slug
            )
    metrics.PHOTOS_SCORED.labels(model_kind=version.kind).inc(len(arrays))
    return arrays


def stored_pixels(version: ModelVersion, photos: list[Photo]) -> tuple[np.ndarray, list[int]]:
    """The photos' stored images as ``version``'s input pixels, and their ids; a photo with no
    stored image or an undecodable one is left out and marked with the reason."""
    from photos.images import load_pixels

    pixels, ids = [], []
    for photo in photos:
        stored = photo.normalized or photo.image  # the normalised copy is upright and smaller
        if not stored:
            photo_services.photo_mark_pending(
                photo_id=photo.pk, reason="The CNN needs a stored image; this photo has a URL only."
            )
            continue
        try:
            with stored.open("rb") as handle:
                pixels.append(
                    load_pixels(handle, version.image_size, max_pixels=settings.ML_MAX_IMAGE_PIXELS)
                )
        except (OSError, ValueError) as error:  # unreadable or undecodable file
            photo_services.photo_mark_pending(
                photo_id=photo.pk, reason=f"The image cannot be decoded: {error}"
            )
            continue
        ids.append(photo.pk)
    return (np.stack(pixels) if pixels else np.zeros((0, 1, 1, 3), "uint8")), ids


def _cnn_arrays(version: ModelVersion, photos: list[Photo]) -> dict[int, list[float]]:
    from . import cnn, runtime

    pixels, ids = stored_pixels(version, photos)
    if not ids:
        return {}
    with metrics.SCORING_SECONDS.time():
        probabilities = cnn.predict(runtime.model_for(version), pixels)
    metrics.PHOTOS_SCORED.labels(model_kind=version.kind).inc(len(ids))
    return {
        photo_id: [round(float(p), 8) for p in row / row.sum()]
        for photo_id, row in zip(ids, probabilities, strict=True)
    }
