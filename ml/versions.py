"""New model versions: training data (the database's labelled photos or a folder tree), training
a city CNN into an inactive version, and evaluating one on freshly drawn held-out photos."""

import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files import File
from django.db import transaction

from core.errors import ApplicationError, NotFoundError
from photos import selectors as photo_selectors

from .models import ModelVersion


def training_data_from_folder(
    *, root: Path, image_size: int
) -> tuple[np.ndarray, list[str], list[str]]:
    """Pixels and city slugs of a folder tree ``<city>/<image>`` (as the original scraper
    wrote it); a folder matches a catalog city by slug or name. Returns (pixels, slugs,
    problems)."""
    from photos.images import load_pixels

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
    """Pixels and city labels of every labelled photo the validate step stored, but rejected,
    duplicate (a copy would sit in training and validation at once) and failed ones."""
    from photos.images import load_pixels

    photos = photo_selectors.photos_for_training()
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
    from . import cnn, training

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
        kind=ModelVersion.Kind.CITY,
        classes=classes,
        status=ModelVersion.Status.TRAINING,
        backbone=config.backbone,
        image_size=config.image_size,
        preprocessing={
            "input": "RGB 0-255",
            "resize": "centre crop, bilinear",
            "size": config.image_size,
        },
        training_params={
            **asdict(config),
            "weights_source": cnn.weights_source(config.backbone, config.weights),
        },
        description=(
            f"City CNN: {config.backbone} at {config.image_size} px, starting weights "
            f"{cnn.weights_source(config.backbone, config.weights)}."
        ),
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


def model_version_evaluate_synthetic(*, version_id: int, per_city: int, on_progress=None) -> dict:
    """Accuracy of a CNN version on freshly drawn synthetic photos of its cities (indices from
    ``synthetic.HELD_OUT_START``: never in the demo deck, never trained on), through the same
    JPEG -> decode -> resize -> predict path as real photos. Stored in the version's metrics
    under ``synthetic_held_out`` and returned."""
    from photos.images import load_pixels

    from . import cnn, runtime, training
    from .synthetic import HELD_OUT_START, city_photo_jpeg

    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFoundError(f"Model version {version_id} does not exist.")
    if version.kind != ModelVersion.Kind.CITY or not version.artifact:
        raise ApplicationError(f"{version.name} is not a trained CNN; nothing to evaluate.")
    if per_city < 1:
        raise ApplicationError("per_city must be at least 1.")
    model = runtime.model_for(version)
    jobs = [(label, index) for index in range(per_city) for label in range(len(version.classes))]
    probabilities = []
    for start in range(0, len(jobs), settings.ML_SCORING_CHUNK_SIZE):
        chunk = jobs[start : start + settings.ML_SCORING_CHUNK_SIZE]
        pixels = np.stack(
            [
                load_pixels(
                    city_photo_jpeg(version.classes[label], HELD_OUT_START + index),
                    version.image_size,
                )
                for label, index in chunk
            ]
        )
        probabilities.append(cnn.predict(model, pixels))
        if on_progress is not None:
            on_progress(start + len(chunk), len(jobs))
    labels = np.array([label for label, _ in jobs])
    metrics = training.evaluation_metrics(np.concatenate(probabilities), labels, version.classes)
    metrics["per_city"] = per_city
    metrics["first_photo_index"] = HELD_OUT_START
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        locked.metrics = {**locked.metrics, "synthetic_held_out": metrics}
        locked.save(update_fields=["metrics"])
    return metrics
