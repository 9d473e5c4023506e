"""Several model kinds side by side: an attribute model trained on the demo photos' recorded
styles, one active version per kind, one upload answered by the city model, the attribute
model and the ImageNet classifier in one response (the image decoded once), the kinds listed by
/api/v1/models/, clear 4xx for unknown and inactive kinds, and the models loaded at process
start with their memory. The pipeline's record of every kind: ingest/tests/test_pipeline_kinds.py.
"""

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, transaction

from ml import activation, attribute_versions, cnn, runtime
from ml.attributes import DEMO_ATTRIBUTES, AttributeConfig, demo_attributes, roc_auc
from ml.models import ModelVersion
from ml.synthetic import city_photo_jpeg, city_style

pytestmark = pytest.mark.django_db

CITIES = ["amsterdam", "bangkok", "berlin", "kyoto"]
URL = "/api/v1/classify"


@pytest.fixture
def city_version(tmp_path):
    model = cnn.make_model(backbone="mobilenetv3small", num_classes=len(CITIES), image_size=32)
    model.save(tmp_path / "city.keras")
    version = ModelVersion(
        name="city-test", kind=ModelVersion.Kind.CITY, classes=CITIES,
        backbone="mobilenetv3small", image_size=32, is_active=True,
    )  # fmt: skip
    version.artifact.save("city.keras", ContentFile((tmp_path / "city.keras").read_bytes()))
    return version


@pytest.fixture(scope="module")
def attribute_training():
    """Pixels and labels of 8 photos per city: each photo shows its city's recorded style."""
    from photos.images import load_pixels

    labels = attribute_versions.demo_city_attributes()
    jobs = [(slug, index) for slug in CITIES for index in range(8)]
    pixels = np.stack([load_pixels(city_photo_jpeg(s, i, 256), 64) for s, i in jobs])
    return pixels, [labels[slug] for slug, _ in jobs]


@pytest.fixture
def attribute_version(attribute_training, django_capture_on_commit_callbacks):
    pixels, labels = attribute_training
    runtime._load.cache_clear()
    version = attribute_versions.model_version_train_attributes(
        name="attributes-test",
        config=AttributeConfig(image_size=64, epochs=40, patience=40),
        pixels=pixels,
        labels=labels,
        source="test",
        cities=CITIES,
    )
    with django_capture_on_commit_callbacks(execute=True):
        activation.model_version_activate(version_id=version.pk)
    version.refresh_from_db()
    return version


@pytest.fixture
def imagenet_version(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("install_imagenet_model", stdout=io.StringIO())
    return ModelVersion.objects.get(kind=ModelVersion.Kind.IMAGENET)


def _post(client, content: bytes, query: str):
    upload = SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")
    return client.post(f"{URL}{query}", {"file": upload}, format="multipart")


def test_demo_attributes_follow_the_recorded_style():
    style = city_style("amsterdam")  # water, fog, day, flat roofs (ml/data/demo_city_styles.json)
    shown = demo_attributes(style)
    assert {"waterfront", "fog", "daylight"} <= set(shown)
    assert not {"night", "snow", "domed roofs", "pointed roofs"} & set(shown)
    assert set(shown) <= set(DEMO_ATTRIBUTES)


def test_roc_auc_counts_ranks_and_ties():
    truth = np.array([1, 1, 0, 0])
    assert roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), truth) == 1.0
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), truth) == 0.0
    assert roc_auc(np.array([0.5, 0.5, 0.5, 0.5]), truth) == 0.5
    assert roc_auc(np.array([0.9, 0.3, 0.5, 0.1]), truth) == 0.75
    assert roc_auc(np.array([0.9, 0.3]), np.array([1, 1])) is None


def test_the_attribute_model_learns_the_styles_and_keeps_honest_metrics(attribute_version):
    metrics = attribute_version.metrics
    assert attribute_version.kind == "attributes" and attribute_version.is_active
    # Attributes all four cities share (or none shows) cannot be learned: left out, listed.
    classes = set(attribute_version.classes)
    assert classes and not classes & set(metrics["skipped_attributes"])
    assert metrics["photo_count"] == round(32 * 0.2) and metrics["threshold"] == 0.5
    assert set(metrics["per_attribute"]) == classes
    held_out = attribute_versions.attribute_version_evaluate_synthetic(
        version_id=attribute_version.pk, per_city=3
    )
    assert held_out["seen_cities"]["cities"] == CITIES
    assert held_out["seen_cities"]["mean_auc"] >= 0.9, held_out["seen_cities"]
    assert "new_cities" in held_out and held_out["photo_count"] == 30 * 3
    assert held_out["mixed_styles"]["photo_count"] == 30 * 3  # attributes no city combines
    stored = ModelVersion.objects.get(pk=attribute_version.pk).metrics["synthetic_held_out"]
    assert stored["mean_auc"] == held_out["mean_auc"]


def test_one_upload_answers_every_kind_asked_decoded_once(
    client, monkeypatch, city_version, attribute_version, imagenet_version
):
    from photos import images

    decoded = []
    real_open = images.open_checked
    monkeypatch.setattr(
        images, "open_checked", lambda *a, **k: decoded.append(1) or real_open(*a, **k)
    )
    response = _post(
        client, city_photo_jpeg("kyoto", 3), "?models=city,attributes,imagenet&top_k=3"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert len(decoded) == 1
    assert body["meta"] == {
        "type": "success", "code": 200,
        "models": {"city": "city-test", "attributes": "attributes-test",
                   "imagenet": imagenet_version.name},
    }  # fmt: skip
    assert set(body["data"]) == {"city", "attributes", "imagenet"}
    city = body["data"]["city"]["top"]
    assert len(city) == 3 and {row["slug"] for row in city} <= set(CITIES)
    attributes = body["data"]["attributes"]["top"]
    assert len(attributes) == 3 and {row["class"] for row in attributes} <= set(
        attribute_version.classes
    )
    for row in attributes:  # independent probabilities, each with its verdict
        assert 0 <= row["score"] <= 1 and row["present"] == (row["score"] >= 0.5)
    everyday = body["data"]["imagenet"]["top"]
    assert everyday[0]["slug"].startswith("n") and everyday[0]["class"] != everyday[0]["slug"]
    scores = [row["score"] for answer in body["data"].values() for row in answer["top"][:1]]
    assert all(0 < score <= 1 for score in scores)


def test_the_attribute_answer_is_the_models_own(client, attribute_version):
    from photos.images import load_pixels

    content = city_photo_jpeg("bangkok", 5)
    expected = cnn.predict(runtime.model_for(attribute_version), load_pixels(content, 64)[None])[0]
    response = _post(client, content, f"?models=attributes&top_k={len(expected)}")
    rows = {row["class"]: row["score"] for row in response.json()["data"]["attributes"]["top"]}
    for name, score in zip(attribute_version.classes, expected, strict=True):
        assert rows[name] == pytest.approx(score, abs=1e-5)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("?models=city,weather", 400, "Unknown model kind 'weather'"),
        ("?models=city,", 400, "empty kind"),
        ("?models=attributes", 409, "No active attributes model version"),
        ("?models=city&model=city-test", 400, "`models` (kinds) or `model`"),
        ("?models=city&top_k=0", 400, "top_k"),
        ("?models=" + "city," * 60, 400, "200 characters"),
    ],
)
def test_bad_kinds_get_a_4xx_with_the_reason(client, city_version, query, status, message):
    response = _post(client, city_photo_jpeg("kyoto", 1), query)
    assert response.status_code == status, response.content
    assert message in str(response.json()["meta"]), response.json()


def test_one_active_version_per_kind(city_version, attribute_version):
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(
            name="second-city", kind=ModelVersion.Kind.CITY, classes=CITIES, is_active=True
        )
    active = dict(ModelVersion.objects.filter(is_active=True).values_list("kind", "name"))
    assert active == {"city": "city-test", "attributes": "attributes-test"}


def test_the_models_api_lists_kinds_with_their_active_version(client, attribute_version):
    body = client.get("/api/v1/models/").json()
    kinds = {row["kind"]: row for row in body["kinds"]}
    assert list(kinds) == ["city", "attributes", "imagenet"]
    assert kinds["attributes"]["active"] == "attributes-test"
    assert kinds["imagenet"]["active"] is None and kinds["imagenet"]["memory_bytes"] is None
    listed = {row["name"]: row for row in body["results"]}
    assert listed["attributes-test"]["kind"] == "attributes"
    assert listed["attributes-test"]["architecture"] == "keras"


def test_processes_load_every_active_model_at_start_and_report_memory(
    city_version, attribute_version
):
    runtime._load.cache_clear()
    runtime._loaded.clear()
    loaded = runtime.load_active_models()
    assert set(loaded) == {"city-test", "attributes-test"}
    assert {entry["kind"] for entry in loaded.values()} == {"city", "attributes"}
    assert all(entry["memory_bytes"] >= 0 for entry in loaded.values())
    assert runtime.resident_bytes() > 50 * 2**20  # TensorFlow is in this process
