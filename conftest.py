"""Fixtures shared by every test: media in a temp dir, a label-prior model version, factories."""

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"


@pytest.fixture
def label_prior(db):
    from ml.scoring import model_version_label_prior_ensure

    return model_version_label_prior_ensure()


@pytest.fixture
def published_photos(label_prior):
    """make(n, cities=[...]) -> n published photos cycling over the given city slugs."""
    from tests.factories import published_photo

    def make(count: int, cities=("paris", "rome", "tokyo")):
        return [published_photo(city_slug=cities[i % len(cities)]) for i in range(count)]

    return make


@pytest.fixture
def api_client():
    """An API client whose every response is checked against the OpenAPI document."""
    from tests.openapi import SchemaCheckingAPIClient

    return SchemaCheckingAPIClient()


@pytest.fixture
def guest_client(db, api_client):
    """An API client authenticated as a fresh guest (by token), with .user set."""
    from users.services import guest_create

    user, token = guest_create()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    api_client.user = user
    return api_client


@pytest.fixture
def image_server(settings):
    """A local web server for photo imports; `localhost` may be fetched, `127.0.0.1` may not
    (so a redirect to 127.0.0.1 shows the SSRF protection)."""
    from tests.image_server import ImageServer

    settings.PHOTO_FETCH_ALLOWED_HOSTS = ["localhost"]
    with ImageServer() as server:
        yield server


@pytest.fixture
def cnn_version(tmp_path, label_prior):
    """A tiny, untrained MobileNetV3Small version over oslo, paris and rome (ready, inactive)."""
    from django.core.files.base import ContentFile

    from ml import cnn, runtime
    from ml.models import ModelVersion

    model = cnn.make_model(backbone="mobilenetv3small", num_classes=3, image_size=32)
    model.save(tmp_path / "m.keras")
    version = ModelVersion(
        name="cnn-test", kind=ModelVersion.Kind.CITY, classes=["oslo", "paris", "rome"],
        backbone="mobilenetv3small", image_size=32,
    )  # fmt: skip
    version.artifact.save("m.keras", ContentFile((tmp_path / "m.keras").read_bytes()), save=False)
    version.save()
    runtime._load.cache_clear()
    return version
