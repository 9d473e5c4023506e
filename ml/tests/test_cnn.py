"""The CNN's building, saving and loading, on tiny models with random or test-made weights."""

import numpy as np
import pytest

from ml import cnn
from ml.synthetic import city_photo_jpeg
from photos.images import load_pixels


@pytest.fixture(scope="module")
def pixels():
    return np.stack([load_pixels(city_photo_jpeg(slug, 0), 32) for slug in ("paris", "oslo")])


@pytest.mark.parametrize("backbone", sorted(cnn.BACKBONES))
def test_every_backbone_outputs_a_distribution_per_image(backbone, pixels):
    model = cnn.make_model(backbone=backbone, num_classes=5, image_size=32)
    probabilities = cnn.predict(model, pixels)
    assert probabilities.shape == (2, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_saved_model_loads_and_predicts_the_same(tmp_path, pixels):
    model = cnn.make_model(backbone="resnet50", num_classes=3, image_size=32)
    path = tmp_path / "city.keras"
    model.save(path)
    restored = cnn.load_model(str(path))
    np.testing.assert_allclose(cnn.predict(restored, pixels), cnn.predict(model, pixels), atol=1e-6)


def test_backbone_weights_load_from_a_local_file_the_test_writes(tmp_path, pixels):
    # given backbone weights saved to a file (as a machine without internet would have them)
    donor = cnn.make_model(backbone="mobilenetv3small", num_classes=3, image_size=32)
    weights_file = tmp_path / "mobilenetv3small_notop.weights.h5"
    cnn.backbone_of(donor).save_weights(weights_file)
    # when a new model is built from that file
    model = cnn.make_model(
        backbone="mobilenetv3small", num_classes=3, image_size=32, weights=str(weights_file)
    )
    # then its backbone has exactly those weights, and a fresh random one does not
    for loaded, saved in zip(
        cnn.backbone_of(model).get_weights(), cnn.backbone_of(donor).get_weights(), strict=True
    ):
        np.testing.assert_array_equal(loaded, saved)
    fresh = cnn.make_model(backbone="mobilenetv3small", num_classes=3, image_size=32)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(
            cnn.backbone_of(fresh).get_weights(), cnn.backbone_of(donor).get_weights(), strict=True
        )
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backbone": "vgg99"}, "Unknown backbone"),
        ({"num_classes": 1}, "at least 2 cities"),
        ({"image_size": 16}, "at least 32"),
        ({"weights": "/nonexistent/weights.h5"}, "weights file not found"),
    ],
)
def test_bad_arguments_are_value_errors(kwargs, message):
    arguments = {"backbone": "mobilenetv3small", "num_classes": 3, "image_size": 32} | kwargs
    with pytest.raises(ValueError, match=message):
        cnn.make_model(**arguments)


def test_images_are_oriented_cropped_and_resized():
    from io import BytesIO

    from PIL import Image

    # an 80 x 40 image, left half blue, right half red, stored with "rotate 90 degrees" EXIF
    wide = Image.new("RGB", (80, 40), (220, 0, 0))
    wide.paste((0, 0, 220), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = BytesIO()
    wide.save(buffer, format="PNG", exif=exif)

    pixels = load_pixels(buffer.getvalue(), 32).astype(int)

    assert pixels.shape == (32, 32, 3)
    # upright it is 40 x 80 with the halves on top of each other: the centre crop keeps both,
    # split horizontally (without the EXIF rotation the split would be vertical)
    top, bottom = pixels[2, 16], pixels[29, 16]
    assert abs(top - bottom).sum() > 200
    assert abs(pixels[2, 2] - pixels[2, 29]).sum() < 30


def test_a_pretrained_lite0_city_model_saves_and_loads_without_custom_code(tmp_path, pixels):
    model = cnn.make_model(
        backbone="efficientnetlite0", num_classes=3, image_size=32, weights="imagenet"
    )
    path = tmp_path / "lite0.keras"
    model.save(path)
    restored = cnn.load_model(str(path))  # safe mode: only Keras's own layers
    np.testing.assert_allclose(cnn.predict(restored, pixels), cnn.predict(model, pixels), atol=1e-6)


def test_a_failed_imagenet_download_says_what_to_do_instead(monkeypatch):
    def no_internet(weights, input_shape):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...")

    monkeypatch.setitem(cnn.BACKBONES, "resnet50", (no_internet, None))
    with pytest.raises(cnn.PretrainedWeightsUnavailable, match="--backbone efficientnetlite0"):
        cnn.make_model(backbone="resnet50", num_classes=3, image_size=32, weights="imagenet")


def test_weights_source_says_where_the_starting_weights_came_from():
    assert cnn.weights_source("mobilenetv3small", None) == "none: trained from scratch"
    assert "offline" in cnn.weights_source("efficientnetlite0", "imagenet")
    assert cnn.weights_source("resnet50", "imagenet") == "ImageNet, downloaded by Keras"
