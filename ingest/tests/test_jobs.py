"""The jobs page's reads (ingest.jobs), the ingestion switch (ingest.switch, the runner's pause
check) and their staff-only API (ingest.admin_apis)."""

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30Validator
from rest_framework.test import APIClient

from ingest import admin_apis, jobs, switch
from ingest.runner import pipeline_run_step
from ml.models import Activation
from photos.models import Photo
from tests.factories import UserFactory, pending_photo
from tests.openapi import _resolve

pytestmark = pytest.mark.django_db

JOBS_URL = "/api/v1/admin/jobs/"
SWITCH_URL = "/api/v1/admin/ingestion/"
# The routes as cityvibes/api_urls.py names them (wired there by its owner); in front of the
# site's own, so these tests run before and after that wiring.
urlpatterns = [
    path("api/v1/admin/jobs/", admin_apis.JobsOverviewApi.as_view()),
    path("api/v1/admin/ingestion/", admin_apis.IngestionSwitchApi.as_view()),
    path("", include("cityvibes.urls")),
]


def _queue(overview, key):
    return next(queue for queue in overview.queues if queue.key == key)


def _touch(photo_ids, *, minutes_ago: float, **values):
    Photo.objects.filter(pk__in=photo_ids).update(
        updated_at=timezone.now() - timedelta(minutes=minutes_ago), **values
    )


def test_the_overview_counts_real_rows_with_throughput_and_eta(published_photos):
    waiting = [pending_photo().pk for _ in range(3)]
    failed = pending_photo()
    _touch([failed.pk], minutes_ago=1, status=Photo.Status.FAILED, pipeline_step="score")
    recent = [photo.pk for photo in published_photos(2)]
    _touch(recent, minutes_ago=2, analysis={"fetch": {}, "validate": {}})
    old = [photo.pk for photo in published_photos(1)]
    _touch(old, minutes_ago=60, analysis={"fetch": {}})

    overview = jobs.jobs_overview()

    pipeline = _queue(overview, "pipeline")
    assert (pipeline.waiting, pipeline.failed, pipeline.done, pipeline.done_recent) == (3, 1, 3, 2)
    assert pipeline.active is None  # a step's run leaves no trace until it records
    assert pipeline.per_minute == 0.2  # 2 photos finished in the last 10 minutes
    assert pipeline.eta_seconds == 900.0  # 3 waiting at 0.2 a minute
    steps = {step.name: step for step in pipeline.steps}
    assert {"fetch", "validate", "score", "publish"} <= set(steps)
    assert (steps["fetch"].waiting, steps["fetch"].done_recent) == (3, 2)
    assert steps["fetch"].eta_seconds == 900.0
    assert (steps["score"].waiting, steps["score"].failed) == (0, 1)
    assert steps["score"].eta_seconds == 0.0 and steps["dedupe"].done_recent == 0
    assert len(waiting) == 3


def test_a_running_activation_shows_its_progress_rate_and_eta(label_prior):
    running = Activation.objects.create(
        model_version=label_prior, photos_total=100, photos_done=40, profiles_total=7
    )
    Activation.objects.filter(pk=running.pk).update(
        started_at=timezone.now() - timedelta(minutes=2)
    )
    Activation.objects.create(
        model_version=label_prior, status=Activation.Status.FAILED, finished_at=timezone.now()
    )
    Activation.objects.create(
        model_version=label_prior, status=Activation.Status.DONE, finished_at=timezone.now()
    )

    scoring = _queue(jobs.jobs_overview(), "scoring")

    assert (scoring.active, scoring.waiting, scoring.failed, scoring.done) == (1, 0, 1, 1)
    (job,) = scoring.jobs
    assert (job.done, job.total, job.detail) == (40, 100, "profiles 0 / 7")
    assert job.per_minute == pytest.approx(20, rel=0.02)  # 40 photos in 2 minutes
    assert job.eta_seconds == pytest.approx(180, rel=0.02)  # 60 left at 20 a minute


def test_training_jobs_are_counted_by_status():
    try:
        model = apps.get_model("ml", "TrainingJob")
    except LookupError:
        assert _queue(jobs.jobs_overview(), "training").available is False
        return
    model.objects.create(kind="city", name="a", status="running", eta_seconds=120)
    model.objects.create(kind="city", name="b", status="queued")
    model.objects.create(kind="city", name="c", status="failed")
    model.objects.create(kind="city", name="d", status="succeeded", finished_at=timezone.now())

    training = _queue(jobs.jobs_overview(), "training")

    assert (training.active, training.waiting, training.failed, training.done) == (1, 1, 1, 1)
    assert training.done_recent == 1 and training.per_minute == 0.1
    assert training.eta_seconds == 120 + 600  # the running job's own, then one at 0.1 a minute
    assert [job.status for job in training.jobs] == ["running", "queued"]


def test_a_paused_pipeline_leaves_the_photo_waiting_and_resume_runs_it(
    label_prior, image_server, django_capture_on_commit_callbacks
):
    from tests.pictures import jpeg, textured

    photo = pending_photo()
    Photo.objects.filter(pk=photo.pk).update(
        image_url=image_server.image("/p.jpg", jpeg(textured(5)))
    )
    switch.ingestion_pause()

    assert pipeline_run_step(photo_id=photo.pk, step="fetch") is None

    photo.refresh_from_db()
    assert (photo.status, photo.pipeline_step) == (Photo.Status.PENDING, "fetch")
    assert photo.status_reason == jobs.PAUSED_REASON and "fetch" not in photo.analysis
    assert jobs.ingestion_paused() and _queue(jobs.jobs_overview(), "pipeline").waiting == 1

    with django_capture_on_commit_callbacks(execute=True):
        queued = switch.ingestion_resume()

    assert queued == 1 and not jobs.ingestion_paused()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PUBLISHED and photo.status_reason == ""
    assert "fetch" in photo.analysis and photo.pipeline_step == ""


def test_retry_failed_queues_only_the_failed_photos_again(
    label_prior, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("ingest.runner.queue_step", lambda *args: queued.append(args))
    failed, waiting = pending_photo(), pending_photo()
    _touch([failed.pk], minutes_ago=0, status=Photo.Status.FAILED, pipeline_step="score")

    with django_capture_on_commit_callbacks(execute=True):
        assert switch.photos_retry_failed() == 1

    assert queued == [(failed.pk, "score")]
    failed.refresh_from_db()
    assert failed.status == Photo.Status.PENDING and waiting.pipeline_step == "fetch"


# The API, against its own OpenAPI description.


def _check_schema(response) -> None:
    document = json.loads(
        json.dumps(
            SchemaGenerator(patterns=urlpatterns[:2], api_version="v1").get_schema(public=True),
            default=str,
        )
    )
    operation = document["paths"][response.wsgi_request.path][response.wsgi_request.method.lower()]
    content = operation["responses"][str(response.status_code)]["content"]["application/json"]
    schema = _resolve(content["schema"], document["components"]["schemas"])
    OAS30Validator(schema).validate(response.json())


@pytest.fixture
def staff_client():
    client = APIClient()
    client.force_authenticate(UserFactory(is_staff=True))
    return client


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", [JOBS_URL, SWITCH_URL])
def test_the_admin_api_is_for_staff_only_with_json_errors(url):
    client = APIClient()
    anonymous = client.get(url)
    assert anonymous.status_code in (401, 403) and anonymous.json()["meta"]["type"] == "error"
    client.force_authenticate(UserFactory())
    for response in (client.get(url), client.post(url, {"paused": True}, format="json")):
        assert response.status_code == 403
        assert response.json()["meta"]["code"] == 403
    assert not jobs.ingestion_paused()


@pytest.mark.urls(__name__)
def test_the_jobs_api_answers_the_overview(staff_client, published_photos):
    published_photos(1)
    pending_photo()
    response = staff_client.get(JOBS_URL)
    assert response.status_code == 200
    _check_schema(response)
    body = response.json()
    assert [queue["key"] for queue in body["queues"]] == ["pipeline", "scoring", "training"]
    assert body["queues"][0]["waiting"] == 1 and body["paused"] is False


@pytest.mark.urls(__name__)
def test_the_switch_api_pauses_resumes_and_retries(
    staff_client, label_prior, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("ingest.runner.queue_step", lambda *args: None)
    paused = staff_client.post(SWITCH_URL, {"paused": True}, format="json")
    assert paused.status_code == 200 and paused.json()["paused"] is True
    _check_schema(paused)
    assert staff_client.get(SWITCH_URL).json()["changed_by"].startswith("person")
    pending_photo()
    failed = pending_photo()
    _touch([failed.pk], minutes_ago=0, status=Photo.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        resumed = staff_client.post(SWITCH_URL, {"paused": False}, format="json")
        retried = staff_client.post(SWITCH_URL, {"retry_failed": True}, format="json")
    assert resumed.json() == {**resumed.json(), "paused": False, "queued": 1}
    assert retried.json()["queued"] == 1
    bad = staff_client.post(SWITCH_URL, {"paused": True, "retry_failed": True}, format="json")
    assert bad.status_code == 400 and "one of them" in bad.json()["meta"]["message"]
