"""Scoring photos with the active model version.

Until a CNN is trained (see the ml issue) the active version can be the *label prior*: a photo's
array puts ``LABEL_PRIOR_WEIGHT`` on the city it was collected for and spreads the rest evenly.
It is honest about what it is (its kind says so) and lets the swipe model run end to end."""

import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from core import metrics
from core.errors import ApplicationError, ConflictError, NotFoundError
from photos import selectors as photo_selectors
from photos import services as photo_services
from photos.images import ImageProblem
from photos.models import Photo

from .models import Activation, ModelVersion
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
    photo = Photo.objects.select_related("city").get(pk=photo_id)
    if version.kind == ModelVersion.Kind.LABEL_PRIOR:
        arrays = _label_prior_arrays(version, [photo])
    else:
        arrays = _cnn_arrays(version, [photo])
    if photo_id not in arrays:
        photo.refresh_from_db(fields=["status_reason"])
        raise CannotScore(photo.status_reason or f"{version.name} cannot score this photo.")
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
    """The ``top_k`` most likely cities of an uploaded image under the active model version
    (or the version named ``model_name``). Returns (version, [{"class", "slug", "score"}]).

    Raises ApplicationError (400) for a file that is not a usable image or an unknown version,
    ConflictError (409) when the version cannot classify images (no CNN, not ready)."""
    from photos.images import open_checked, pixels_of

    from . import cnn, runtime

    version = model_version_get(name=model_name) if model_name else model_version_active()
    if version is None:
        if model_name:
            raise ApplicationError(f"There is no model version named '{model_name}'.")
        raise ConflictError("No model version is active yet.")
    if version.kind != ModelVersion.Kind.KERAS:
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

    photos = (
        Photo.objects.exclude(
            status__in=[Photo.Status.REJECTED, Photo.Status.DUPLICATE, Photo.Status.FAILED]
        )
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
    if version.kind != ModelVersion.Kind.KERAS or not version.artifact:
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


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def model_version_activate(*, version_id: int) -> Activation:
    """Make a version the active one, then (in queued chunks, after commit) rescore every
    photo with it and recompute everyone's running scores from their swipes. Rolling back is
    activating an older version."""
    from . import tasks

    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().filter(pk=version_id).first()
        if version is None:
            raise NotFoundError(f"Model version {version_id} does not exist.")
        if version.status != ModelVersion.Status.READY:
            raise ApplicationError(
                f"{version.name} is {version.status}; only ready versions can be activated."
            )
        if version.kind == ModelVersion.Kind.KERAS and not version.artifact:
            raise ApplicationError(f"{version.name} has no trained artifact.")
        running = Activation.objects.filter(
            status__in=[Activation.Status.RESCORING, Activation.Status.RECOMPUTING]
        ).first()
        if running is not None:
            raise ConflictError(f"{running} is still running; wait for it to finish.")
        ModelVersion.objects.filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
        version.is_active = True
        version.save(update_fields=["is_active"])
        photo_ids = photo_selectors.photo_ids_with_arrays()
        activation = Activation.objects.create(model_version=version, photos_total=len(photo_ids))
        chunks = _chunks(photo_ids, settings.ML_SCORING_CHUNK_SIZE)

        def queue_rescoring():
            for index, chunk in enumerate(chunks):
                tasks.rescore_photos_chunk.delay(activation.pk, index, chunk)
            if not chunks:
                _start_recompute(activation.pk)

        transaction.on_commit(queue_rescoring, robust=True)
    return activation


def _record_chunk(
    *, activation_id: int, phase: str, chunk_key: str, done: int, counted: int, next_step
) -> None:
    """Count one finished chunk of a phase (under the row lock, once per chunk key, so a
    redelivered task is harmless) and, when the phase is complete, run ``next_step`` after
    commit."""
    fields = {
        Activation.Status.RESCORING: ("photos_done", "photos_scored", "photos_total"),
        Activation.Status.RECOMPUTING: ("profiles_done", "profiles_drifted", "profiles_total"),
    }[phase]
    done_field, counted_field, total_field = fields
    with transaction.atomic():
        activation = Activation.objects.select_for_update().filter(pk=activation_id).first()
        if activation is None or activation.status != phase:
            return  # gone, failed or superseded
        if chunk_key in activation.finished_chunks:
            return  # already counted
        activation.finished_chunks.append(chunk_key)
        setattr(activation, done_field, getattr(activation, done_field) + done)
        setattr(activation, counted_field, getattr(activation, counted_field) + counted)
        activation.save()
        if getattr(activation, done_field) >= getattr(activation, total_field):
            transaction.on_commit(lambda: next_step(activation_id), robust=True)


def activation_rescore_chunk(*, activation_id: int, chunk_index: int, photo_ids: list[int]) -> None:
    _record_chunk(
        activation_id=activation_id,
        phase=Activation.Status.RESCORING,
        chunk_key=f"photos-{chunk_index}",
        done=len(photo_ids),
        counted=photos_rescore(photo_ids=photo_ids),
        next_step=_start_recompute,
    )


def _start_recompute(activation_id: int) -> None:
    from users import selectors as user_selectors

    from . import tasks

    profile_ids = user_selectors.profile_ids()
    with transaction.atomic():
        activation = Activation.objects.select_for_update().get(pk=activation_id)
        if activation.status != Activation.Status.RESCORING:
            return
        activation.status = Activation.Status.RECOMPUTING
        activation.profiles_total = len(profile_ids)
        activation.save(update_fields=["status", "profiles_total"])
    chunks = _chunks(profile_ids, settings.ML_RECOMPUTE_CHUNK_SIZE)
    for index, chunk in enumerate(chunks):
        tasks.recompute_profiles_chunk.delay(activation_id, index, chunk)
    if not chunks:
        _finish(activation_id)


def activation_recompute_chunk(
    *, activation_id: int, chunk_index: int, profile_ids: list[int]
) -> None:
    from users import services as user_services

    drifted = sum(
        user_services.profile_recompute(profile_id=profile_id, fix=True) is not None
        for profile_id in profile_ids
    )
    _record_chunk(
        activation_id=activation_id,
        phase=Activation.Status.RECOMPUTING,
        chunk_key=f"profiles-{chunk_index}",
        done=len(profile_ids),
        counted=drifted,
        next_step=_finish,
    )


def _finish(activation_id: int) -> None:
    Activation.objects.filter(pk=activation_id, status=Activation.Status.RECOMPUTING).update(
        status=Activation.Status.DONE, finished_at=timezone.now()
    )


def activation_fail(*, activation_id: int, error: str) -> None:
    Activation.objects.filter(
        pk=activation_id, status__in=[Activation.Status.RESCORING, Activation.Status.RECOMPUTING]
    ).update(status=Activation.Status.FAILED, error=error[:2000], finished_at=timezone.now())
