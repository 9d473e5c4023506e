"""Scoring photos with a trained Keras model version (a tiny model the test makes)."""

import numpy as np
import pytest
from django.core.files.base import ContentFile

from ml import cnn, runtime, scoring
from ml.models import ModelVersion
from ml.synthetic import city_photo_jpeg
from photos.models import Photo
from tests.factories import pending_photo, published_photo

pytestmark = pytest.mark.django_db

CLASSES = ["oslo", "paris", "rome"]


def _make_active(version):
    ModelVersion.objects.update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)


@pytest.fixture
def cnn_version(tmp_path):
    model = cnn.make_model(backbone="mobilenetv3small", num_classes=3, image_size=32)
    path = tmp_path / "tiny.keras"
    model.save(path)
    version = ModelVersion(
        name="tiny-test",
        kind=ModelVersion.Kind.CITY,
        classes=CLASSES,
        backbone="mobilenetv3small",
        image_size=32,
    )
    version.artifact.save("tiny.keras", ContentFile(path.read_bytes()), save=False)
    version.save()
    runtime._load.cache_clear()
    return version, model


def test_cnn_rescores_stored_images_in_one_batch_with_the_models_own_output(
    label_prior, cnn_version
):
    version, model = cnn_version
    photos = [
        published_photo(city_slug="paris", image=city_photo_jpeg("paris", index))
        for index in range(3)
    ]
    waiting = pending_photo(city_slug="paris")
    _make_active(version)

    assert scoring.photos_rescore(photo_ids=[*(p.pk for p in photos), waiting.pk]) == 3

    from photos.images import load_pixels

    expected = cnn.predict(
        model, np.stack([load_pixels(city_photo_jpeg("paris", i), 32) for i in range(3)])
    )
    for photo, row in zip(photos, expected, strict=True):
        photo.refresh_from_db()
        assert photo.status == Photo.Status.PUBLISHED and photo.model_version == version
        np.testing.assert_allclose(photo.probabilities, row / row.sum(), atol=1e-6)
    assert runtime._load.cache_info().misses == 1  # loaded once, reused
    waiting.refresh_from_db()
    assert waiting.probabilities is None and waiting.status == Photo.Status.PENDING


def test_a_photo_the_cnn_cannot_read_keeps_its_array(label_prior, cnn_version):
    photo = published_photo(city_slug="paris")
    _make_active(cnn_version[0])
    photo.normalized.open("wb").write(b"not an image at all")  # the stored copy got damaged
    photo.image.open("wb").write(b"not an image at all")
    before = list(photo.probabilities)

    assert scoring.photos_rescore(photo_ids=[photo.pk]) == 0

    photo.refresh_from_db()
    assert photo.probabilities == before and photo.model_version == label_prior
