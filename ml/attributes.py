"""The attribute model: one independent sigmoid per attribute ("waterfront", "night", "fog",
...) on the pretrained EfficientNet-Lite0 backbone, trained as a new head on features computed
once (ml.transfer's recipe, multi-label). Its metrics are per-attribute ROC AUC, and precision
and recall at the threshold it answers with. The demo's labels are the generated photos'
recorded city styles (ml/data/demo_city_styles.json). Plain functions, no Django."""

import time
from dataclasses import dataclass

import numpy as np

from . import cnn
from .synthetic import CityStyle

# A photo "shows" an attribute when the model's probability is at least this.
THRESHOLD = 0.5


def demo_attributes(style: CityStyle) -> list[str]:
    """The attributes a generated photo of a city in ``style`` shows, in words. The generator
    draws every photo of a city with the city's style, so these hold for each of its photos."""
    shown = {
        "waterfront": style.water,
        "mountains": style.mountains,
        "greenery": style.greenery > 0.5,
        "dense skyline": style.skyline_density > 0.6,
        "tall buildings": style.building_height > 0.6,
        "daylight": style.time_of_day == "day",
        "dusk": style.time_of_day == "dusk",
        "night": style.time_of_day == "night",
        "clear sky": style.weather == "clear",
        "cloudy": style.weather == "cloudy",
        "rain": style.weather == "rain",
        "fog": style.weather == "fog",
        "snow": style.weather == "snow",
        "domed roofs": style.roof == "domed",
        "pointed roofs": style.roof == "pointed",
    }
    return [name for name, present in shown.items() if present]


DEMO_ATTRIBUTES = (
    "waterfront", "mountains", "greenery", "dense skyline", "tall buildings", "daylight", "dusk",
    "night", "clear sky", "cloudy", "rain", "fog", "snow", "domed roofs", "pointed roofs",
)  # fmt: skip


def label_matrix(labels: list[list[str]], attributes: list[str]) -> np.ndarray:
    """N x A matrix of 0/1: photo i shows attribute j (names not among ``attributes``, such as
    one every photo shows, are left out)."""
    index = {name: j for j, name in enumerate(attributes)}
    matrix = np.zeros((len(labels), len(attributes)), dtype="float32")
    for i, names in enumerate(labels):
        for name in names:
            if name in index:
                matrix[i, index[name]] = 1.0
    return matrix


def roc_auc(scores: np.ndarray, truth: np.ndarray) -> float | None:
    """Area under the ROC curve (the Mann-Whitney U statistic, ties counted half); None when
    the truth has one class only."""
    positives, negatives = scores[truth > 0.5], scores[truth <= 0.5]
    if len(positives) == 0 or len(negatives) == 0:
        return None
    order = np.argsort(np.concatenate([positives, negatives]), kind="stable")
    values = np.concatenate([positives, negatives])[order]
    ranks = np.empty(len(values))
    start = 0
    while start < len(values):  # average ranks over ties
        end = start
        while end + 1 < len(values) and values[end + 1] == values[start]:
            end += 1
        ranks[start : end + 1] = (start + end) / 2 + 1
        start = end + 1
    positive_ranks = ranks[np.argsort(order, kind="stable")][: len(positives)]
    u = positive_ranks.sum() - len(positives) * (len(positives) + 1) / 2
    return float(u / (len(positives) * len(negatives)))


def attribute_metrics(probabilities: np.ndarray, truth: np.ndarray, attributes: list[str]) -> dict:
    """Per attribute: ROC AUC, and precision / recall at THRESHOLD, with the photo counts; and
    the mean AUC over the attributes that have both classes."""
    per_attribute = {}
    for j, name in enumerate(attributes):
        predicted = probabilities[:, j] >= THRESHOLD
        actual = truth[:, j] > 0.5
        per_attribute[name] = {
            "auc": roc_auc(probabilities[:, j], truth[:, j]),
            "precision": float(actual[predicted].mean()) if predicted.any() else None,
            "recall": float(predicted[actual].mean()) if actual.any() else None,
            "positives": int(actual.sum()),
        }
    aucs = [row["auc"] for row in per_attribute.values() if row["auc"] is not None]
    return {
        "photo_count": len(truth),
        "threshold": THRESHOLD,
        "mean_auc": float(np.mean(aucs)) if aucs else None,
        "per_attribute": per_attribute,
    }


@dataclass
class AttributeConfig:
    """How the attribute model is trained: the pretrained backbone frozen, a sigmoid head
    trained on its pooled features (computed once, and once more mirrored)."""

    image_size: int = 128
    epochs: int = 80
    learning_rate: float = 1e-3
    batch_size: int = 32
    validation_fraction: float = 0.2
    patience: int = 10
    dropout: float = 0.2
    seed: int = 7

    def validate(self) -> None:
        if not 0 < self.validation_fraction < 1:
            raise ValueError("validation_fraction must be between 0 and 1.")
        if self.epochs < 1 or self.batch_size < 1 or self.image_size < 32:
            raise ValueError("epochs and batch_size must be >= 1, image_size >= 32.")


def make_model(*, attribute_count: int, image_size: int, dropout: float = 0.2):
    """Pretrained EfficientNet-Lite0 + global average pooling + dropout + a sigmoid per
    attribute (the layer "attributes"); raw 0-255 RGB in."""
    import keras

    from . import efficientnet_lite

    inputs = keras.Input(shape=(image_size, image_size, 3), name="pixels")
    base = efficientnet_lite.pretrained_backbone(image_size=image_size)
    base.name = "backbone"
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(base(inputs, training=False))
    pooled = keras.layers.Dropout(dropout, name="dropout")(pooled)
    outputs = keras.layers.Dense(attribute_count, activation="sigmoid", name="attributes")(pooled)
    return keras.Model(inputs, outputs, name="attributes_efficientnetlite0")


def train_attribute_model(
    pixels: np.ndarray,
    truth: np.ndarray,
    attributes: list[str],
    config: AttributeConfig,
    on_epoch=None,
):
    """Train on ``pixels`` (N x S x S x 3) with ``truth`` (N x A, 0/1). Returns (model, metrics
    on the validation photos, history). ``on_epoch(epoch, epochs, logs)`` reports progress."""
    import keras

    config.validate()
    if len(attributes) < 1 or truth.shape != (len(pixels), len(attributes)):
        raise ValueError("truth must be N x attributes, with at least one attribute.")
    if pixels.shape[1:] != (config.image_size, config.image_size, 3):
        raise ValueError(f"pixels must be N x {config.image_size} x {config.image_size} x 3.")
    keras.utils.set_random_seed(config.seed)
    started = time.perf_counter()
    order = np.random.default_rng(config.seed).permutation(len(pixels))
    count = max(1, round(len(pixels) * config.validation_fraction))
    if len(pixels) - count < 2:
        raise ValueError("Too few photos: need at least 3 to train and validate.")
    validation, train = np.sort(order[:count]), np.sort(order[count:])
    model = make_model(
        attribute_count=len(attributes), image_size=config.image_size, dropout=config.dropout
    )
    pooled = keras.Model(model.input, model.get_layer("pool").output)
    train_features = np.concatenate(
        [cnn.predict(pooled, pixels[train]), cnn.predict(pooled, pixels[train][:, :, ::-1])]
    ).astype("float32")
    train_truth = np.concatenate([truth[train], truth[train]])
    validation_features = cnn.predict(pooled, pixels[validation]).astype("float32")
    head = keras.Sequential(
        [
            keras.Input(shape=(train_features.shape[1],)),
            keras.layers.Dropout(config.dropout),
            keras.layers.Dense(len(attributes), activation="sigmoid"),
        ]
    )
    head.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(multi_label=True, name="auc")],
    )
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.patience, restore_best_weights=True
        )
    ]
    if on_epoch is not None:
        callbacks.append(
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: on_epoch(epoch + 1, config.epochs, logs or {})
            )
        )
    result = head.fit(
        train_features,
        train_truth,
        validation_data=(validation_features, truth[validation]),
        batch_size=config.batch_size,
        epochs=config.epochs,
        callbacks=callbacks,
        shuffle=True,
        verbose=0,
    )
    model.get_layer("attributes").set_weights(head.layers[-1].get_weights())
    metrics = attribute_metrics(
        cnn.predict(model, pixels[validation]), truth[validation], attributes
    )
    metrics["training_seconds"] = round(time.perf_counter() - started, 1)
    metrics["train_count"] = len(train)
    history = {key: [float(v) for v in values] for key, values in result.history.items()}
    return model, metrics, history
