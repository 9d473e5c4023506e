"""The admin as an ML workbench: train from a form (a background job), read a version's metrics
as tables and charts, compare it with the active one, activate it after a confirmation (never
the active one again), and the notice that the active city model misses published cities."""

import json

import pytest
from django.urls import reverse

from core.errors import ApplicationError
from ml import activation as activations
from ml.models import Activation, ModelVersion, TrainingJob
from tests.factories import UserFactory, published_photo, stored_published_photos
from users import selectors as user_selectors

pytestmark = pytest.mark.django_db

TRAIN_URL = "/admin/ml/modelversion/train/"
TINY = {
    "kind": "city", "backbone": "mobilenetv3small", "weights": "none", "image_size": 32,
    "epochs": 1, "mixed_styles": 0,
}  # fmt: skip
CITY_METRICS = {
    "validation_count": 12,
    "top1_accuracy": 0.75,
    "top5_accuracy": 1.0,
    "chance_accuracy": 1 / 3,
    "expected_calibration_error": 0.0812,
    "per_city_accuracy": {"oslo": 0.5, "paris": 0.75, "rome": 1.0},
    "most_confused": [{"true": "oslo", "predicted": "paris", "count": 2}],
    "calibration": [
        {"confidence": None, "accuracy": None, "count": 0} for _ in range(5)
    ] + [
        {"confidence": 0.55 + 0.1 * i, "accuracy": 0.5 + 0.1 * i, "count": 2} for i in range(5)
    ],
}  # fmt: skip


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _version(name="city-new", metrics=None, **fields) -> ModelVersion:
    return ModelVersion.objects.create(
        name=name,
        kind=fields.pop("kind", ModelVersion.Kind.CITY),
        architecture=ModelVersion.Architecture.LABEL_PRIOR,
        classes=fields.pop("classes", ["oslo", "paris", "rome"]),
        metrics=CITY_METRICS if metrics is None else metrics,
        **fields,
    )


def test_the_train_form_starts_a_background_job_and_shows_its_page(
    admin_client, label_prior, django_capture_on_commit_callbacks
):
    stored_published_photos(9)  # oslo, paris, rome
    page = admin_client.get(TRAIN_URL).content.decode()
    assert "Oslo (3 photos)" in page and 'value="efficientnetlite0" selected' in page
    assert 'name="name"' in page and "city-" in page  # a suggested name

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = admin_client.post(
            TRAIN_URL, {**TINY, "name": "city-tiny", "cities": ["oslo", "paris", "rome"]}
        )
    job = TrainingJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:ml_trainingjob_change", args=[job.pk])
    assert job.status == TrainingJob.Status.QUEUED  # the request trained nothing
    assert job.params["backbone"] == "mobilenetv3small" and job.params["weights"] is None

    for callback in queued:  # the run, as the worker does it
        callback()
    job.refresh_from_db()
    assert job.status == TrainingJob.Status.SUCCEEDED, job.error
    page = admin_client.get(response["Location"]).content.decode()
    assert 'id="training-live"' in page and "js/admin-training.js" in page
    assert f"/api/v1/admin/training-jobs/{job.pk}/" in page
    assert reverse("admin:ml_modelversion_change", args=[job.model_version_id]) in page
    listing = admin_client.get(reverse("admin:ml_trainingjob_changelist")).content.decode()
    assert "<progress" in listing and "city-tiny" in listing

    version_page = admin_client.get(
        reverse("admin:ml_modelversion_by_name", args=["city-tiny"]), follow=True
    )
    assert "ml-calibration" in version_page.content.decode()  # a new version records its bins


def test_the_train_form_shows_the_services_refusal(admin_client, label_prior):
    stored_published_photos(3)
    response = admin_client.post(TRAIN_URL, {**TINY, "name": "city-one", "cities": ["oslo"]})
    assert response.status_code == 200
    assert "at least 2 cities" in response.content.decode()
    assert not TrainingJob.objects.exists()


def test_the_version_page_shows_tables_and_charts_not_raw_json(admin_client, label_prior):
    version = _version()
    page = admin_client.get(reverse("admin:ml_modelversion_change", args=[version.pk]))
    html = page.content.decode()
    assert "Per-city accuracy" in html and "<svg" in html
    assert '<th scope="row">oslo</th><td>0.500</td>' in html
    assert "Reliability" in html and "0.9 to 1.0" in html
    assert "<td>oslo</td><td>paris</td><td>2</td>" in html  # the most confused pair
    assert "0.081" in html  # ECE
    assert json.dumps(CITY_METRICS["per_city_accuracy"]) not in html
    assert "per_city_accuracy" not in html
    assert reverse("admin:ml_modelversion_activate", args=[version.pk]) in html

    older = _version(
        "city-old", metrics={k: v for k, v in CITY_METRICS.items() if k != "calibration"}
    )
    html = admin_client.get(reverse("admin:ml_modelversion_change", args=[older.pk])).content
    assert b"not recorded" in html


def test_an_attribute_version_shows_its_attributes_and_held_out_groups(admin_client, label_prior):
    rows = {"water": {"auc": 0.91, "precision": 0.8, "recall": 0.7, "positives": 5}}
    group = {"photo_count": 9, "mean_auc": 0.88, "per_attribute": rows, "cities": ["paris"]}
    metrics = {
        "mean_auc": 0.91, "photo_count": 20, "threshold": 0.5, "per_attribute": rows,
        "synthetic_held_out": {"seen_cities": group, "new_cities": group, "mixed_styles": group},
    }  # fmt: skip
    version = _version(
        "attrs", metrics=metrics, kind=ModelVersion.Kind.ATTRIBUTES, classes=["water"]
    )
    html = admin_client.get(reverse("admin:ml_modelversion_change", args=[version.pk])).content
    html = html.decode()
    assert '<th scope="row">water</th><td>0.910</td><td>0.800</td><td>0.700</td>' in html
    assert "cities it never saw" in html and "mixed styles" in html


def test_the_compare_view_shows_both_versions_and_the_differences(admin_client, label_prior):
    active = _version("city-active", metrics={**CITY_METRICS, "top1_accuracy": 0.5})
    ModelVersion.objects.filter(pk=label_prior.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=active.pk).update(is_active=True)
    version = _version("city-candidate")
    html = admin_client.get(reverse("admin:ml_modelversion_compare", args=[version.pk]))
    html = html.content.decode()
    assert "city-candidate" in html and "city-active (active)" in html
    assert "+0.250 (better)" in html  # top-1: 0.75 against 0.5


def test_activation_asks_first_with_the_counts_then_activates(
    admin_client, cnn_version, django_capture_on_commit_callbacks
):
    stored_published_photos(3)
    UserFactory(), UserFactory()
    url = reverse("admin:ml_modelversion_activate", args=[cnn_version.pk])
    html = admin_client.get(url).content.decode()
    assert '<strong id="ml-photos-count">3</strong> photos will be rescored' in html
    profiles = len(user_selectors.profile_ids())
    assert f'<strong id="ml-profiles-count">{profiles}</strong>' in html
    assert "in the background" in html and "Rolling back is activating the old version" in html
    cnn_version.refresh_from_db()
    assert not cnn_version.is_active  # asking changed nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url)
    activation = Activation.objects.get()
    assert response["Location"] == reverse("admin:ml_activation_change", args=[activation.pk])
    cnn_version.refresh_from_db()
    assert cnn_version.is_active

    # the changelist's action goes through the same confirmation
    response = admin_client.post(
        reverse("admin:ml_modelversion_changelist"),
        {"action": "activate", "_selected_action": [cnn_version.pk]},
    )
    assert response["Location"] == url


def test_the_active_version_cannot_be_activated_again(admin_client, label_prior):
    url = reverse("admin:ml_modelversion_activate", args=[label_prior.pk])
    html = admin_client.get(reverse("admin:ml_modelversion_change", args=[label_prior.pk]))
    assert url not in html.content.decode()
    assert "already the active city version" in admin_client.get(url).content.decode()
    response = admin_client.post(url, follow=True)
    assert "already the active city version" in response.content.decode()
    assert not Activation.objects.exists()
    with pytest.raises(ApplicationError, match="already the active city version"):
        activations.model_version_activate(version_id=label_prior.pk)


def test_the_needs_retraining_notice(admin_client, label_prior):
    changelist = reverse("admin:ml_modelversion_changelist")
    published_photo(city_slug="tokyo")
    assert b"not among the active city model" not in admin_client.get(changelist).content

    small = _version("city-small")  # knows oslo, paris and rome only
    ModelVersion.objects.filter(pk=label_prior.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=small.pk).update(is_active=True)
    published_photo(city_slug="paris")
    html = admin_client.get(changelist).content.decode()
    assert "1 published photo of 1 city (Tokyo) is not among the active city model" in html
    assert TRAIN_URL in html
