"""Scoring photos with a trained Keras model version (a tiny model the test makes)."""

import numpy as np
import pytest
from django.core.files.base import ContentFile

from ml import cnn, runtime, services
from ml.models import ModelVersion
from ml.synthetic import city_photo_jpeg
from photos.models import City, Photo

pytestmark = pytest.mark.django_db

CLASSES = ["oslo", "paris", "rome"]


@pytest.fixture
def cnn_version(tmp_path):
    model = cnn.make_model(backbone="mobilenetv3small", num_classes=3, image_size=32)
    path = tmp_path / "tiny.keras"
    model.save(path)
    version = ModelVersion(
        name="tiny-test",
        kind=ModelVersion.Kind.KERAS,
        classes=CLASSES,
        backbone="mobilenetv3small",
        image_size=32,
        is_active=True,
    )
    version.artifact.save("tiny.keras", ContentFile(path.read_bytes()), save=False)
    version.save()
    runtime._load.cache_clear()
    return version, model


def _photo(*, image: bytes | None = None, image_url: str = "") -> Photo:
    photo = Photo(city=City.objects.get(slug="paris"), image_url=image_url)
    if image is not None:
        photo.image.save("photo.jpg", ContentFile(image), save=False)
    photo.save()
    return photo


def test_cnn_scores_stored_images_in_one_batch_with_the_models_own_output(cnn_version):
    version, model = cnn_version
    photos = [_photo(image=city_photo_jpeg("paris", index)) for index in range(3)]

    assert services.photos_score(photo_ids=[p.pk for p in photos]) == 3

    from ml.images import load_pixels

    expected = cnn.predict(
        model, np.stack([load_pixels(city_photo_jpeg("paris", i), 32) for i in range(3)])
    )
    for photo, row in zip(photos, expected, strict=True):
        photo.refresh_from_db()
        assert photo.status == Photo.Status.PUBLISHED and photo.model_version == version
        np.testing.assert_allclose(photo.probabilities, row / row.sum(), atol=1e-6)
    assert runtime._load.cache_info().misses == 1  # loaded once, reused


def test_photos_the_cnn_cannot_read_wait_with_a_reason(cnn_version):
    url_only = _photo(image_url="https://images.example.com/x.jpg")
    broken = _photo(image=b"not an image at all")

    assert services.photos_score(photo_ids=[url_only.pk, broken.pk]) == 0

    url_only.refresh_from_db()
    broken.refresh_from_db()
    assert url_only.status == broken.status == Photo.Status.PENDING
    assert "URL only" in url_only.status_reason
    assert "cannot be decoded" in broken.status_reason
