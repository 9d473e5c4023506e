"""Classifying an uploaded image with several model kinds at once (/api/v1/classify?models=):
the file is decoded once, resized once per input size, and each kind's active version (or a
version named explicitly) answers with its top classes: cities for the city model, attributes
with their independent probabilities for the attribute model, everyday classes for ImageNet."""

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core.errors import ApplicationError, ConflictError
from photos import selectors as photo_selectors
from photos.images import ImageProblem

from .models import ModelVersion
from .selectors import model_version_get, model_versions_active

KINDS = tuple(ModelVersion.Kind.values)


@dataclass
class KindAnswer:
    version: ModelVersion
    top: list[dict]


def classifiers_for(*, kinds: list[str] | None, model_name: str | None) -> list[ModelVersion]:
    """The versions that answer: the one named ``model_name``, else the active version of each
    of ``kinds`` (default: the city model). Raises ApplicationError (400) for an unknown kind
    or version, ConflictError (409) for a kind with no active version or a version that cannot
    classify images."""
    if model_name:
        version = model_version_get(name=model_name)
        if version is None:
            raise ApplicationError(f"There is no model version named '{model_name}'.")
        versions = [version]
    else:
        kinds = kinds or [ModelVersion.Kind.CITY]
        unknown = [kind for kind in kinds if kind not in KINDS]
        if unknown:
            raise ApplicationError(
                f"Unknown model kind {', '.join(map(repr, unknown))}; the kinds are "
                f"{', '.join(KINDS)}."
            )
        active = model_versions_active()
        missing = [kind for kind in kinds if kind not in active]
        if missing:
            raise ConflictError(
                f"No active {' or '.join(missing)} model version yet (see /api/v1/models/)."
            )
        versions = [active[kind] for kind in dict.fromkeys(kinds)]
    for version in versions:
        if version.architecture != ModelVersion.Architecture.KERAS:
            raise ConflictError(
                f"{version.name} is a {version.get_architecture_display().lower()}; it cannot "
                "classify images. Train and activate a CNN (train_city_model, activate_model)."
            )
        if version.status != ModelVersion.Status.READY or not version.artifact:
            raise ConflictError(f"{version.name} is {version.status}; it cannot classify images.")
    return versions


def _class_names(version: ModelVersion) -> dict[str, str]:
    from . import imagenet

    if version.kind == ModelVersion.Kind.IMAGENET:
        return imagenet.class_names()
    if version.kind == ModelVersion.Kind.CITY:
        return photo_selectors.city_names_by_slug()
    return {}  # attributes are named in words already


def top_classes(version: ModelVersion, row: np.ndarray, top_k: int) -> list[dict]:
    """The ``top_k`` highest scores of one output row. City and ImageNet rows are softmax
    distributions (renormalised against float drift); attribute rows are independent
    probabilities, each with whether it passes the model's threshold."""
    from .attributes import THRESHOLD

    if version.kind != ModelVersion.Kind.ATTRIBUTES:
        row = row / row.sum()
    names = _class_names(version)
    best = np.argsort(-row, kind="stable")[: max(1, top_k)]
    answers = []
    for i in best:
        answer = {
            "class": names.get(version.classes[i], version.classes[i]),
            "slug": version.classes[i],
            "score": round(float(row[i]), 6),
        }
        if version.kind == ModelVersion.Kind.ATTRIBUTES:
            answer["present"] = bool(row[i] >= THRESHOLD)
        answers.append(answer)
    return answers


def image_classify(
    *, image_file, kinds: list[str] | None = None, model_name: str | None = None, top_k: int = 5
) -> list[KindAnswer]:
    """Each requested kind's answer for one uploaded image, decoded once. Raises
    ApplicationError (400) for a file that is not a usable image (and see ``classifiers_for``)."""
    from photos.images import open_checked, pixels_of

    from . import serving

    versions = classifiers_for(kinds=kinds, model_name=model_name)
    sizes = sorted({version.image_size for version in versions})
    try:
        with open_checked(
            image_file, max_pixels=settings.ML_MAX_IMAGE_PIXELS, min_side=sizes[-1]
        ) as image:
            pixels = {size: pixels_of(image, size) for size in sizes}
    except ImageProblem as problem:
        raise ApplicationError(str(problem)) from problem
    # Every kind's image handed in first: each version's batcher predicts in parallel.
    pending = [
        (version, serving.classify_submit(version=version, pixels=pixels[version.image_size]))
        for version in versions
    ]
    return [
        KindAnswer(version=version, top=top_classes(version, serving.classify_row(row), top_k))
        for version, row in pending
    ]
