"""Training the city CNN (the original recipe, done properly): stratified train/validation
split, augmentation, class weights, early stopping, the head first and then fine-tuning, and
the validation metrics a model version keeps. Plain functions; no Django."""

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import cnn, transfer


@dataclass
class TrainingConfig:
    """How a city CNN is trained. The defaults are the recipe the demo uses (seed_demo --train)
    and train_city_model starts from: the ImageNet-pretrained EfficientNet-Lite0 (offline
    weights), frozen, at 128 px, with only the softmax head trained (on features computed once,
    so 60 epochs cost seconds). bench/transfer_learning.py chose it: held-out top-1 0.98 against
    0.77 for the earlier from-scratch MobileNetV3Small at 64 px, in a sixth of the time
    (docs/BENCHMARKS.md)."""

    backbone: str = "efficientnetlite0"
    image_size: int = 128
    weights: str | None = "imagenet"  # "imagenet", a local backbone weights file, or None
    validation_fraction: float = 0.2
    batch_size: int = 32
    head_epochs: int = 60
    finetune_epochs: int = 0
    head_learning_rate: float = 1e-3
    finetune_learning_rate: float = 1e-4
    patience: int = 8
    seed: int = 7

    def validate(self) -> None:
        if not 0 < self.validation_fraction < 1:
            raise ValueError("validation_fraction must be between 0 and 1.")
        if self.head_epochs < 1 or self.finetune_epochs < 0:
            raise ValueError("head_epochs must be >= 1 and finetune_epochs >= 0.")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1.")


@dataclass
class TrainingResult:
    model: object
    classes: list[str]
    metrics: dict
    history: dict = field(default_factory=dict)


def stratified_split(
    labels: np.ndarray, validation_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation): each class keeps about ``validation_fraction`` of its
    examples for validation, at least one when it has two or more."""
    rng = np.random.default_rng(seed)
    train, validation = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = round(len(members) * validation_fraction)
        count = min(max(count, 1 if len(members) >= 2 else 0), len(members) - 1)
        validation.extend(members[:count])
        train.extend(members[count:])
    return np.array(sorted(train)), np.array(sorted(validation))


def class_weights(labels: np.ndarray, class_count: int) -> dict[int, float]:
    """Inverse-frequency weights so that rare cities count as much as common ones."""
    counts = np.bincount(labels, minlength=class_count)
    total = counts.sum()
    return {i: float(total / (class_count * c)) if c else 0.0 for i, c in enumerate(counts)}


def evaluation_metrics(
    probabilities: np.ndarray, labels: np.ndarray, classes: list[str], bins: int = 10
) -> dict:
    """Top-1/top-5 accuracy, per-city accuracy, expected calibration error with its ``bins``
    (``calibration``: mean confidence, accuracy and count per bin; None for an empty bin),
    confused pairs."""
    predicted = probabilities.argmax(axis=1)
    top5 = np.argsort(-probabilities, axis=1)[:, :5]
    confidence = probabilities.max(axis=1)
    correct = predicted == labels
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    calibration = []  # the reliability diagram: one row per bin of top-1 confidence
    for low, high in itertools.pairwise(edges):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
        calibration.append(
            {
                "confidence": float(confidence[in_bin].mean()) if in_bin.any() else None,
                "accuracy": float(correct[in_bin].mean()) if in_bin.any() else None,
                "count": int(in_bin.sum()),
            }
        )
    per_city = {
        slug: float(correct[labels == i].mean())
        for i, slug in enumerate(classes)
        if (labels == i).any()
    }
    confusion: dict[tuple[str, str], int] = {}
    for truth, guess in zip(labels, predicted, strict=True):
        if truth != guess:
            pair = (classes[truth], classes[guess])
            confusion[pair] = confusion.get(pair, 0) + 1
    confused = sorted(confusion.items(), key=lambda item: -item[1])[:10]
    return {
        "validation_count": len(labels),
        "top1_accuracy": float(correct.mean()),
        "top5_accuracy": float(
            np.mean([label in row for label, row in zip(labels, top5, strict=True)])
        ),
        "chance_accuracy": 1 / len(classes),
        "per_city_accuracy": per_city,
        "expected_calibration_error": float(ece),
        "calibration": calibration,
        "most_confused": [
            {"true": truth, "predicted": guess, "count": count}
            for (truth, guess), count in confused
        ],
    }


def recalibrate_batch_norm(model, pixels: np.ndarray, batch_size: int) -> None:
    """Set every BatchNorm layer's inference statistics to the average over ``pixels``.

    A network trained from scratch on a few thousand images has taken too few steps for the
    moving averages to catch up, and predicts nonsense in inference mode; one forward pass in
    training mode with a running-average momentum fixes that (as SWA's bn_update does)."""
    import keras

    layers = [
        layer
        for layer in cnn.backbone_of(model).layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    momenta = [layer.momentum for layer in layers]
    for batch_number, start in enumerate(range(0, len(pixels), batch_size)):
        for layer in layers:
            layer.momentum = batch_number / (batch_number + 1)
        model(pixels[start : start + batch_size].astype("float32"), training=True)
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum


def _augmentation(seed: int):
    import keras

    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(0.03, seed=seed),
            keras.layers.RandomZoom(0.1, seed=seed),
            keras.layers.RandomContrast(0.15, seed=seed),
        ],
        name="augmentation",
    )


def _datasets(pixels, labels, train, validation, config: TrainingConfig):
    import tensorflow as tf

    augment = _augmentation(config.seed)
    train_set = (
        tf.data.Dataset.from_tensor_slices((pixels[train].astype("float32"), labels[train]))
        .shuffle(len(train), seed=config.seed)
        .batch(config.batch_size)
        .map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    validation_set = (
        tf.data.Dataset.from_tensor_slices(
            (pixels[validation].astype("float32"), labels[validation])
        )
        .batch(config.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    return train_set, validation_set


def train_city_model(
    pixels: np.ndarray,
    labels: np.ndarray,
    classes: list[str],
    config: TrainingConfig,
    on_epoch: Callable[[str, int, int, dict], None] | None = None,
) -> TrainingResult:
    """Train on ``pixels`` (N x S x S x 3, uint8) labelled with indices into ``classes``.

    ``on_epoch(phase, epoch, epochs, logs)`` reports progress after every epoch."""
    import keras

    config.validate()
    if len(classes) < 2:
        raise ValueError("Training needs photos of at least 2 cities.")
    if pixels.shape[1:] != (config.image_size, config.image_size, 3):
        raise ValueError(f"pixels must be N x {config.image_size} x {config.image_size} x 3.")
    keras.utils.set_random_seed(config.seed)
    started = time.perf_counter()
    train, validation = stratified_split(labels, config.validation_fraction, config.seed)
    if len(validation) == 0:
        raise ValueError("Too few photos for a validation set: each city needs at least 2.")
    train_set, validation_set = _datasets(pixels, labels, train, validation, config)
    weights = class_weights(labels[train], len(classes))
    model = cnn.make_model(
        backbone=config.backbone,
        num_classes=len(classes),
        image_size=config.image_size,
        weights=config.weights,
    )
    history: dict[str, list] = {}
    # Without pretrained weights there is nothing to protect: train everything from the start.
    pretrained = config.weights is not None

    def progress_callbacks(phase: str, epochs: int) -> list:
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.patience, restore_best_weights=True
            )
        ]
        if on_epoch is not None:
            callbacks.append(
                keras.callbacks.LambdaCallback(
                    on_epoch_end=lambda epoch, logs: on_epoch(phase, epoch + 1, epochs, logs or {})
                )
            )
        return callbacks

    def keep_history(phase: str, result) -> None:
        for key, values in result.history.items():
            history.setdefault(f"{phase}_{key}", []).extend(float(v) for v in values)

    def fit(phase: str, epochs: int, learning_rate: float) -> None:
        cnn.backbone_of(model).trainable = True
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        callbacks = progress_callbacks(phase, epochs)
        if not pretrained:
            # Validation (and so early stopping) must see proper inference statistics.
            callbacks.insert(
                0,
                keras.callbacks.LambdaCallback(
                    on_test_begin=lambda logs: recalibrate_batch_norm(
                        model, pixels[train], config.batch_size
                    )
                ),
            )
        result = model.fit(
            train_set,
            validation_data=validation_set,
            epochs=epochs,
            class_weight=weights,
            callbacks=callbacks,
            shuffle=False,  # the dataset shuffles itself
            verbose=0,
        )
        keep_history(phase, result)

    if pretrained:
        keep_history(
            "head",
            transfer.fit_head_on_features(
                model, pixels, labels, train, validation, config, weights,
                progress_callbacks("head", config.head_epochs),
            ),
        )  # fmt: skip
    else:
        fit("head", config.head_epochs, config.head_learning_rate)
    if config.finetune_epochs:
        fit("finetune", config.finetune_epochs, config.finetune_learning_rate)

    if not pretrained:  # restore_best_weights may have brought back older statistics
        recalibrate_batch_norm(model, pixels[train], config.batch_size)
    probabilities = cnn.predict(model, pixels[validation])
    metrics = evaluation_metrics(probabilities, labels[validation], classes)
    metrics["training_seconds"] = round(time.perf_counter() - started, 1)
    metrics["train_count"] = len(train)
    return TrainingResult(model=model, classes=classes, metrics=metrics, history=history)
