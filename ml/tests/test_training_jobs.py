"""Training jobs started from the admin: the services, the staff-only API, cancelling, failures,
and the embedded mode's background thread (the request returns before the training ends)."""

import re
import threading
import time

import pytest

from ml import job_runner, jobs, selectors
from ml.models import ModelVersion, TrainingJob
from tests.factories import UserFactory, stored_published_photos

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/training-jobs/"
TINY = {
    "backbone": "efficientnetlite0", "weights": "imagenet", "image_size": 32, "epochs": 2,
}  # fmt: skip


@pytest.fixture
def staff_client(api_client):
    api_client.force_authenticate(UserFactory(is_staff=True))
    return api_client


def _start(**overrides) -> TrainingJob:
    params = {"user": None, "kind": "city", "name": "job-test", "cities": [], **TINY}
    return jobs.training_job_start(**{**params, **overrides})


def test_a_started_job_trains_a_version_and_records_its_curves(
    label_prior, django_capture_on_commit_callbacks
):
    stored_published_photos(9)  # oslo, paris, rome

    with django_capture_on_commit_callbacks(execute=True):
        job = _start()
        assert job.status == TrainingJob.Status.QUEUED and job.progress == 0.0

    job.refresh_from_db()
    assert job.status == TrainingJob.Status.SUCCEEDED, job.error
    assert job.model_version.name == "job-test"
    assert job.model_version.status == ModelVersion.Status.READY
    assert job.model_version.classes == ["oslo", "paris", "rome"]
    assert "synthetic_held_out" not in job.model_version.metrics  # oslo is no demo city
    assert job.photos_total == job.photos_loaded == 9
    assert (job.epoch, job.epochs, job.progress) == (2, 2, 1.0)
    assert [entry["epoch"] for entry in job.history] == [1, 2]
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "seconds"} <= set(job.history[0])
    assert job.photos_per_second > 0 and job.eta_seconds is None
    assert job.started_at <= job.finished_at and job.error == ""
    assert selectors.training_jobs_counts()["succeeded"] == 1


def test_a_version_of_demo_cities_is_evaluated_on_fresh_photos(
    label_prior, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(job_runner, "EVALUATE_PER_CITY", 1)
    stored_published_photos(6, cities=("paris", "rome", "tokyo"))

    with django_capture_on_commit_callbacks(execute=True):
        job = _start(cities=["paris", "tokyo"])

    job.refresh_from_db()
    assert job.status == TrainingJob.Status.SUCCEEDED, job.error
    assert job.model_version.classes == ["paris", "tokyo"]  # only the chosen cities
    assert job.photos_total == 4
    assert job.model_version.metrics["synthetic_held_out"]["per_city"] == 1


def test_an_attribute_job_trains_on_the_demo_styles(
    label_prior, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(job_runner, "EVALUATE_PER_CITY", 1)
    stored_published_photos(6, cities=("amsterdam", "tokyo", "paris"))

    with django_capture_on_commit_callbacks(execute=True):
        job = _start(
            kind="attributes", name="", backbone="efficientnetlite0", weights="imagenet",
            image_size=32, epochs=2, mixed_styles=8,
        )  # fmt: skip

    job.refresh_from_db()
    assert job.status == TrainingJob.Status.SUCCEEDED, job.error
    assert job.name.startswith("attributes-")
    assert job.model_version.kind == ModelVersion.Kind.ATTRIBUTES
    assert {"auc", "val_auc"} <= set(job.history[-1])
    assert "synthetic_held_out" in job.model_version.metrics


def test_staff_start_a_job_through_the_api_and_follow_it(
    staff_client, label_prior, django_capture_on_commit_callbacks
):
    stored_published_photos(6)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            URL, {"kind": "city", "name": "api-job", **TINY}, format="json"
        )
        # The answer is written before the job runs (here: at commit; live: in a worker).
        assert response.status_code == 202
        assert response.json()["status"] == "queued"

    job_url = response.json()["urls"]["self"]
    assert response["Location"] == job_url
    detail = staff_client.get(job_url).json()
    assert detail["status"] == "succeeded" and detail["progress"] == 1.0
    assert detail["model_version"]["name"] == "api-job"
    assert "top1_accuracy" in detail["model_version"]["metrics"]
    assert [entry["epoch"] for entry in detail["history"]] == [1, 2]
    listing = staff_client.get(URL).json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == detail["id"]


def test_cancelling_during_training_stops_at_the_next_epoch_and_leaves_no_version(
    label_prior, django_capture_on_commit_callbacks, monkeypatch
):
    stored_published_photos(6)
    start_training = job_runner._Progress.start_training

    def then_cancel(self, **kwargs):  # as if an admin pressed cancel during the first epoch
        start_training(self, **kwargs)
        jobs.training_job_cancel(job_id=self.job.pk)

    monkeypatch.setattr(job_runner._Progress, "start_training", then_cancel)

    with django_capture_on_commit_callbacks(execute=True):
        job = _start(epochs=5)

    job.refresh_from_db()
    assert job.status == TrainingJob.Status.CANCELLED and job.cancel_requested
    assert len(job.history) == 1 and job.finished_at is not None
    assert not ModelVersion.objects.filter(name="job-test").exists()


def test_a_cancel_requested_before_the_run_stops_it_before_training(
    label_prior, django_capture_on_commit_callbacks
):
    stored_published_photos(6)
    with django_capture_on_commit_callbacks() as callbacks:
        job = _start()
    TrainingJob.objects.filter(pk=job.pk).update(cancel_requested=True)

    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert job.status == TrainingJob.Status.CANCELLED and job.history == []
    assert not ModelVersion.objects.filter(name="job-test").exists()


def test_a_queued_job_is_cancelled_at_once_and_a_finished_one_is_a_conflict(
    staff_client, label_prior, django_capture_on_commit_callbacks
):
    stored_published_photos(6)
    with django_capture_on_commit_callbacks():  # not run
        job = _start()

    response = staff_client.post(f"{URL}{job.pk}/cancel/")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    job_runner.training_job_run(job_id=job.pk)  # a late delivery does nothing
    job.refresh_from_db()
    assert job.status == TrainingJob.Status.CANCELLED and job.started_at is None

    again = staff_client.post(f"{URL}{job.pk}/cancel/")
    assert again.status_code == 409 and "cancelled" in again.json()["meta"]["message"]
    assert staff_client.post(f"{URL}999999/cancel/").status_code == 404
    assert staff_client.get(f"{URL}999999/").status_code == 404


def test_a_failing_training_marks_the_job_failed_with_the_error(
    label_prior, django_capture_on_commit_callbacks, monkeypatch
):
    from ml import training

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(training, "train_city_model", out_of_memory)
    stored_published_photos(6)

    with django_capture_on_commit_callbacks(execute=True):
        job = _start(backbone="mobilenetv3small", weights=None)  # from scratch

    job.refresh_from_db()
    assert job.params["weights"] is None
    assert job.status == TrainingJob.Status.FAILED and job.error == "out of memory"
    assert job.finished_at is not None
    assert not ModelVersion.objects.filter(name="job-test").exists()  # the name is free again


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"cities": ["atlantis"]}, "Unknown cities: atlantis"),
        ({"name": "cnn test"}, "not a valid version name"),
        ({"image_size": 16}, "image_size"),
        ({"epochs": 0}, "epochs"),
        ({"backbone": "vgg16"}, "backbone"),
        ({"kind": "imagenet"}, "kind"),
        ({"cities": ["oslo"]}, "at least 2 cities with 2 or more"),
        ({"kind": "attributes", "backbone": "mobilenetv3small"}, "EfficientNet|efficientnetlite0"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(staff_client, label_prior, change, reason):
    stored_published_photos(6)

    response = staff_client.post(
        URL, {"kind": "city", "name": "bad", **TINY, **change}, format="json"
    )

    assert response.status_code == 400
    assert re.search(reason, response.json()["meta"]["message"]), response.json()
    assert not TrainingJob.objects.exists()


def test_a_taken_name_is_refused(staff_client, label_prior):
    stored_published_photos(6)
    body = {"kind": "city", "name": label_prior.name, **TINY}

    response = staff_client.post(URL, body, format="json")

    assert response.status_code == 400 and "is taken" in response.json()["meta"]["message"]


def test_only_staff_may_use_the_api(api_client, guest_client):
    assert guest_client.get(URL).status_code == 403
    assert guest_client.post(URL, {"kind": "city"}, format="json").status_code == 403
    anonymous = api_client.__class__()
    answer = anonymous.get(URL)
    assert answer.status_code in (401, 403) and answer.json()["meta"]["type"] == "error"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the city catalog
def test_in_thread_mode_the_request_returns_before_the_job_runs_in_the_background(
    api_client, settings
):
    from ml.scoring import model_version_label_prior_ensure

    settings.ML_TRAINING_IN_THREAD = True
    model_version_label_prior_ensure()
    stored_published_photos(6)
    api_client.force_authenticate(UserFactory(is_staff=True))

    response = api_client.post(URL, {"kind": "city", "name": "thread-job", **TINY}, format="json")

    assert response.status_code == 202
    assert response.json()["status"] in ("queued", "running")
    job_id = response.json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = TrainingJob.objects.get(pk=job_id)
        if job.status in TrainingJob.FINISHED:
            break
        time.sleep(0.2)
    for thread in threading.enumerate():
        if thread.name == f"training-job-{job_id}":
            thread.join(timeout=10)
    assert job.status == TrainingJob.Status.SUCCEEDED, job.error
    assert job.model_version.name == "thread-job"
