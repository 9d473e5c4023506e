"""Scoring photos with the active model version.

Until a CNN is trained (see the ml issue) the active version can be the *label prior*: a photo's
array puts ``LABEL_PRIOR_WEIGHT`` on the city it was collected for and spreads the rest evenly.
It is honest about what it is (its kind says so) and lets the swipe model run end to end."""

import numpy as np
from django.db import transaction

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


def photo_score(*, photo_id: int) -> bool:
    """Score one photo with the active version; True when it got an array."""
    return photos_score(photo_ids=[photo_id]) == 1


def photos_score(*, photo_ids: list[int]) -> int:
    """Score photos with the active version (a batch: one model load, one predict call) and
    publish them; returns how many got an array.

    Running twice is harmless: photos already scored by the active version are skipped. A
    photo that cannot be scored yet stays pending with the reason written on it."""
    version = model_version_active()
    photos = list(
        Photo.objects.select_related("city")
        .filter(pk__in=photo_ids)
        .exclude(status=Photo.Status.REJECTED)
        .order_by("pk")
    )
    if version is None:
        for photo in photos:
            photo_services.photo_mark_pending(photo_id=photo.pk, reason="No active model version.")
        return 0
    done = [p for p in photos if p.model_version_id == version.pk and p.probabilities is not None]
    todo = [p for p in photos if p not in done]
    if version.kind == ModelVersion.Kind.LABEL_PRIOR:
        arrays = _label_prior_arrays(version, todo)
    else:
        arrays = _cnn_arrays(version, todo)
    for photo_id, probabilities in arrays.items():
        photo_services.photo_record_scores(
            photo_id=photo_id, probabilities=probabilities, model_version=version
        )
    return len(done) + len(arrays)


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
    return arrays


def _cnn_arrays(version: ModelVersion, photos: list[Photo]) -> dict[int, list[float]]:
    from . import cnn, runtime
    from .images import load_pixels

    pixels, ids = [], []
    for photo in photos:
        if not photo.image:
            photo_services.photo_mark_pending(
                photo_id=photo.pk, reason="The CNN needs a stored image; this photo has a URL only."
            )
            continue
        try:
            with photo.image.open("rb") as handle:
                pixels.append(load_pixels(handle, version.image_size))
        except (OSError, ValueError) as error:  # unreadable or undecodable file
            photo_services.photo_mark_pending(
                photo_id=photo.pk, reason=f"The image cannot be decoded: {error}"
            )
            continue
        ids.append(photo.pk)
    if not ids:
        return {}
    probabilities = cnn.predict(runtime.model_for(version), np.stack(pixels))
    return {
        photo_id: [round(float(p), 8) for p in row / row.sum()]
        for photo_id, row in zip(ids, probabilities, strict=True)
    }
