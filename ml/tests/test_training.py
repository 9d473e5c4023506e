import numpy as np
import pytest

from ml import training
from ml.synthetic import city_photo_jpeg
from photos.images import load_pixels


def test_stratified_split_keeps_every_city_on_both_sides():
    labels = np.array([0] * 10 + [1] * 5 + [2] * 2)
    train, validation = training.stratified_split(labels, 0.2, seed=1)
    assert sorted(np.concatenate([train, validation])) == list(range(17))
    assert np.bincount(labels[validation]).tolist() == [2, 1, 1]
    assert set(labels[train]) == {0, 1, 2}


def test_class_weights_balance_rare_cities():
    weights = training.class_weights(np.array([0, 0, 0, 1]), 2)
    assert weights[1] == pytest.approx(3 * weights[0])


def test_evaluation_metrics_on_known_predictions():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    labels = np.array([0, 1, 1, 0])
    metrics = training.evaluation_metrics(probabilities, labels, ["oslo", "rome"])
    assert metrics["top1_accuracy"] == 0.75
    assert metrics["top5_accuracy"] == 1.0
    assert metrics["per_city_accuracy"] == {"oslo": 1.0, "rome": 0.5}
    assert metrics["most_confused"] == [{"true": "rome", "predicted": "oslo", "count": 1}]
    # bins: 0.9 right, 0.8 right, 0.6 wrong, 0.7 right -> |1-.9|/4+|1-.8|/4+|0-.6|/4+|1-.7|/4
    assert metrics["expected_calibration_error"] == pytest.approx((0.1 + 0.2 + 0.6 + 0.3) / 4)


def test_a_tiny_model_learns_two_distinct_synthetic_cities():
    cities = ["reykjavik", "dubai"]
    pixels = np.stack(
        [load_pixels(city_photo_jpeg(city, i, size=64), 64) for city in cities for i in range(16)]
    )
    labels = np.repeat(np.arange(2), 16)
    epochs = []
    config = training.TrainingConfig(
        backbone="mobilenetv3small",
        image_size=64,
        weights=None,
        head_epochs=8,
        finetune_epochs=1,
        batch_size=8,
    )
    result = training.train_city_model(
        pixels, labels, cities, config, on_epoch=lambda *args: epochs.append(args[:3])
    )
    assert epochs[0] == ("head", 1, 8)
    assert result.metrics["validation_count"] == 6 and result.metrics["train_count"] == 26
    assert result.metrics["top1_accuracy"] >= 0.8  # chance is 0.5
    assert set(result.metrics["per_city_accuracy"]) == set(cities)


def test_training_refuses_too_little_data():
    pixels = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    config = training.TrainingConfig(image_size=32)
    with pytest.raises(ValueError, match="at least 2"):
        training.train_city_model(pixels, np.array([0, 1]), ["a", "b"], config)


def test_transfer_learning_trains_the_head_on_a_frozen_pretrained_backbone():
    """The default recipe: EfficientNet-Lite0 with its ImageNet weights, only the head trained
    (on features computed once), then optionally the whole network at a low learning rate."""
    import keras

    from ml import cnn, efficientnet_lite

    cities = ["reykjavik", "dubai", "venice"]
    pixels = np.stack(
        [load_pixels(city_photo_jpeg(city, i, size=96), 64) for city in cities for i in range(10)]
    )
    labels = np.repeat(np.arange(3), 10)
    config = training.TrainingConfig(image_size=64, batch_size=8, head_epochs=30)
    assert (config.backbone, config.weights) == ("efficientnetlite0", "imagenet")
    result = training.train_city_model(pixels, labels, cities, config)

    assert result.metrics["top1_accuracy"] >= 0.8  # chance is 1/3
    imagenet = efficientnet_lite.pretrained_backbone(image_size=64)
    for trained, original in zip(
        cnn.backbone_of(result.model).weights, imagenet.weights, strict=True
    ):
        np.testing.assert_array_equal(np.asarray(trained), np.asarray(original))
    assert set(result.history) >= {"head_loss", "head_val_accuracy"}
    # The head trained on cached features is the head the whole model uses.
    pooled = cnn.predict(
        keras.Model(result.model.input, result.model.get_layer("pool").output), pixels[:4]
    )
    kernel, bias = result.model.get_layer("cities").get_weights()
    logits = pooled @ kernel + bias
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cnn.predict(result.model, pixels[:4]), expected, atol=1e-5)
