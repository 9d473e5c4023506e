"""Scoring photos with model versions: the label prior (a stand-in until a CNN is trained),
probability arrays for the pipeline's score step and for rescoring, and classifying an uploaded
image. Arrays are written through photos' services, and only while their version is active."""

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from core import metrics
from core.errors import ApplicationError, ConflictError
from photos import selectors as photo_selectors
from photos import services as photo_services
from photos.images import ImageProblem
from photos.models import Photo

from .models import ModelVersion
from .selectors import model_version_active, model_version_get

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
                "kind": ModelVersion.Kind.LABEL_PRIOR,
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
        if not ModelVersion.objects.filter(is_active=True).exists():
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


def _record_if_still_active(version: ModelVersion, arrays: dict[int, list[float]]) -> None:
    """Write ``version``'s arrays only if it is still the active version, holding a share lock
    on its row until they are written: an activation (which updates that row) waits for the
    write to commit and then rescores the photo, or the write sees the new version and raises
    CannotScore to be scored again. No photo keeps the arrays of a version that went out."""
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
        photo_services.photos_record_scores(scores=arrays, model_version=version)


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
    if version.kind == ModelVersion.Kind.LABEL_PRIOR:
        arrays = _label_prior_arrays(version, todo)
    else:
        arrays = _cnn_arrays(version, todo)
    _record_if_still_active(version, arrays)
    return len(photos) - len(todo) + len(arrays)


def photo_score_for_pipeline(*, photo_id: int) -> tuple[ModelVersion, list[float]]:
    """Compute and store the active version's array for one photo in the pipeline, without
    publishing it (the publish step does that). Raises CannotScore."""
    version = model_version_active()
    if version is None:
        raise CannotScore("No active model version.")
    photo = photo_selectors.photo_get(photo_id=photo_id)
    if version.kind == ModelVersion.Kind.LABEL_PRIOR:
        arrays = _label_prior_arrays(version, [photo])
    else:
        arrays = _cnn_arrays(version, [photo])
    if photo_id not in arrays:
        reason = photo_selectors.photo_get(photo_id=photo_id).status_reason
        raise CannotScore(reason or f"{version.name} cannot score this photo.")
    _record_if_still_active(version, arrays)
    return version, arrays[photo_id]


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


def _cnn_arrays(version: ModelVersion, photos: list[Photo]) -> dict[int, list[float]]:
    from photos.images import load_pixels

    from . import cnn, runtime

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
    if not ids:
        return {}
    with metrics.SCORING_SECONDS.time():
        probabilities = cnn.predict(runtime.model_for(version), np.stack(pixels))
    metrics.PHOTOS_SCORED.labels(model_kind=version.kind).inc(len(ids))
    return {
        photo_id: [round(float(p), 8) for p in row / row.sum()]
        for photo_id, row in zip(ids, probabilities, strict=True)
    }


def image_classify(*, image_file, model_name: str | None = None, top_k: int = 5):
    """The ``top_k`` most likely classes of an uploaded image under the active model version
    (or the version named ``model_name``: a city CNN or the ImageNet classifier). Returns
    (version, [{"class", "slug", "score"}]): cities by name and slug, ImageNet classes by their
    names and WordNet id.

    Raises ApplicationError (400) for a file that is not a usable image or an unknown version,
    ConflictError (409) when the version cannot classify images (no CNN, not ready)."""
    from photos.images import open_checked, pixels_of

    from . import cnn, imagenet, runtime

    version = model_version_get(name=model_name) if model_name else model_version_active()
    if version is None:
        if model_name:
            raise ApplicationError(f"There is no model version named '{model_name}'.")
        raise ConflictError("No model version is active yet.")
    if version.kind not in (ModelVersion.Kind.KERAS, ModelVersion.Kind.IMAGENET):
        raise ConflictError(
            f"{version.name} is a {version.get_kind_display().lower()}; it cannot classify "
            "images. Train and activate a CNN (train_city_model, activate_model)."
        )
    if version.status != ModelVersion.Status.READY or not version.artifact:
        raise ConflictError(f"{version.name} is {version.status}; it cannot classify images.")
    try:
        with open_checked(
            image_file, max_pixels=settings.ML_MAX_IMAGE_PIXELS, min_side=version.image_size
        ) as image:
            pixels = pixels_of(image, version.image_size)
    except ImageProblem as problem:
        raise ApplicationError(str(problem)) from problem
    row = cnn.predict(runtime.model_for(version), pixels[None])[0]
    row = row / row.sum()
    if version.kind == ModelVersion.Kind.IMAGENET:
        names = imagenet.class_names()
    else:
        names = photo_selectors.city_names_by_slug()
    best = np.argsort(-row, kind="stable")[: max(1, top_k)]
    return version, [
        {
            "class": names.get(version.classes[i], version.classes[i]),
            "slug": version.classes[i],
            "score": round(float(row[i]), 6),
        }
        for i in best
    ]
