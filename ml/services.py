"""Scoring photos with the active model version.

Until a CNN is trained (see the ml issue) the active version can be the *label prior*: a photo's
array puts ``LABEL_PRIOR_WEIGHT`` on the city it was collected for and spreads the rest evenly.
It is honest about what it is (its kind says so) and lets the swipe model run end to end."""

import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
from django.core.files import File
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


def training_data_from_folder(
    *, root: Path, image_size: int
) -> tuple[np.ndarray, list[str], list[str]]:
    """Pixels and city slugs of a folder tree ``<city>/<image>`` (as the original scraper
    wrote it); a folder matches a catalog city by slug or name. Returns (pixels, slugs,
    problems)."""
    from .images import load_pixels

    if not root.is_dir():
        raise ValueError(f"{root} is not a folder.")
    cities = {
        key.lower(): slug
        for slug, name in photo_selectors.city_names_by_slug().items()
        for key in (slug, name)
    }
    pixels, slugs, problems = [], [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        slug = cities.get(folder.name.lower())
        if slug is None:
            problems.append(f"{folder.name}: not a city of the catalog, skipped")
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            try:
                pixels.append(load_pixels(path, image_size))
                slugs.append(slug)
            except (OSError, ValueError) as error:
                problems.append(f"{folder.name}/{path.name}: {error}")
    if not pixels:
        raise ValueError(f"No readable images under {root}.")
    return np.stack(pixels), slugs, problems


def training_data_from_database(*, image_size: int) -> tuple[np.ndarray, list[str], list[str]]:
    """Pixels and city labels of every labelled, stored, not rejected photo."""
    from .images import load_pixels

    photos = (
        Photo.objects.exclude(status=Photo.Status.REJECTED)
        .filter(city__isnull=False)
        .exclude(image="")
        .select_related("city")
        .order_by("pk")
    )
    pixels, slugs, problems = [], [], []
    for photo in photos.iterator(chunk_size=500):
        try:
            with photo.image.open("rb") as handle:
                pixels.append(load_pixels(handle, image_size))
            slugs.append(photo.city.slug)
        except (OSError, ValueError) as error:
            problems.append(f"photo {photo.pk}: {error}")
    if not pixels:
        raise ValueError("No labelled photos with stored images to train on.")
    return np.stack(pixels), slugs, problems


def model_version_train(
    *,
    name: str,
    config,
    pixels: np.ndarray,
    slugs: list[str],
    on_epoch=None,
) -> ModelVersion:
    """Train a city CNN on labelled pixels and store it as a new, inactive model version.

    Cities with fewer than 2 photos cannot be split into train and validation and are left out
    (listed in the metrics). The version is `training` while it trains, then `ready` or
    `failed`."""
    from . import training

    if ModelVersion.objects.filter(name=name).exists():
        raise ValueError(f"A model version named '{name}' exists already.")
    counts: dict[str, int] = {}
    for slug in slugs:
        counts[slug] = counts.get(slug, 0) + 1
    classes = sorted(slug for slug, count in counts.items() if count >= 2)
    keep = np.array([slug in set(classes) for slug in slugs])
    labels = np.array([classes.index(slug) for slug, kept in zip(slugs, keep, strict=True) if kept])
    version = ModelVersion.objects.create(
        name=name,
        kind=ModelVersion.Kind.KERAS,
        classes=classes,
        status=ModelVersion.Status.TRAINING,
        backbone=config.backbone,
        image_size=config.image_size,
        preprocessing={
            "input": "RGB 0-255",
            "resize": "centre crop, bilinear",
            "size": config.image_size,
        },
        training_params=asdict(config),
    )
    try:
        result = training.train_city_model(pixels[keep], labels, classes, config, on_epoch)
    except Exception:
        ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.FAILED)
        raise
    result.metrics["skipped_cities"] = sorted(s for s, c in counts.items() if c < 2)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.keras"
        result.model.save(path)
        with open(path, "rb") as handle:
            version.artifact.save(f"{name}.keras", File(handle), save=False)
    version.metrics = result.metrics
    version.status = ModelVersion.Status.READY
    version.save(update_fields=["artifact", "metrics", "status"])
    return version
