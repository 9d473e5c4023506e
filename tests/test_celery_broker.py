"""A photo's path through a real broker and worker: created -> queued on commit -> scored."""

import time

import pytest
from django.core.files.base import ContentFile

from ingest.runner import photo_ingest
from ml.scoring import model_version_label_prior_ensure
from ml.synthetic import city_photo_jpeg
from photos.models import City, Photo

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_new_photos_are_scored_by_a_real_worker(celery_worker_on_broker):
    model_version_label_prior_ensure()
    city = City.objects.get(slug="reykjavik")
    photos = [
        photo_ingest(
            image_file=ContentFile(city_photo_jpeg("reykjavik", i), name=f"r{i}.jpg"),
            city=city,
            is_synthetic=True,
            pipeline=Photo.Pipeline.GENERATED,
        )
        for i in range(5)
    ]
    deadline = time.monotonic() + 60
    ids = [photo.pk for photo in photos]
    while time.monotonic() < deadline:
        if Photo.objects.filter(pk__in=ids, status=Photo.Status.PUBLISHED).count() == 5:
            break
        time.sleep(0.2)
    published = Photo.objects.filter(pk__in=ids, status=Photo.Status.PUBLISHED)
    assert published.count() == 5
    assert sorted(published.values_list("queue_position", flat=True)) == list(range(5))


def _wait_until_finished(batch_id: int, timeout: float = 90) -> dict:
    from photos.models import ImportBatch
    from photos.selectors import batch_counts

    batch = ImportBatch.objects.get(pk=batch_id)
    deadline = time.monotonic() + timeout
    while True:
        counts = batch_counts(batch=batch)
        if counts["queued"] == 0 or time.monotonic() > deadline:
            return counts
        time.sleep(0.25)


def test_an_import_over_http_runs_through_a_real_worker(
    celery_worker_on_broker, api_client, image_server
):
    """The API queues each photo's steps on the broker (the score step on the `ml` queue); a
    real worker runs them: good photos are published, duplicates linked, broken and private
    ones rejected with a reason."""
    from tests.factories import UserFactory
    from tests.pictures import jpeg, textured

    model_version_label_prior_ensure()
    good = jpeg(textured(51))
    urls = [
        image_server.image("/w1.jpg", good),
        image_server.image("/w2.jpg", jpeg(textured(52))),
        image_server.image("/w1-again.jpg", good),
        image_server.image("/broken.jpg", good[:2000]),
        image_server.redirect("/away", image_server.url("/w2.jpg", host="127.0.0.1")),
    ]
    api_client.force_authenticate(UserFactory(is_staff=True))
    response = api_client.post(
        "/api/v1/photos/import", {"urls": urls, "city": "reykjavik"}, format="json"
    )
    assert response.status_code == 202

    counts = _wait_until_finished(response.json()["id"])

    assert counts == {"queued": 0, "done": 2, "rejected": 2, "duplicate": 1, "failed": 0}
    states = dict(Photo.objects.values_list("image_url", "status"))
    assert states[urls[2]] == Photo.Status.DUPLICATE
    assert "SSRF" in Photo.objects.get(image_url=urls[4]).status_reason
    for photo in Photo.objects.filter(status=Photo.Status.PUBLISHED):
        assert photo.analysis["score"]["output"]["model"] == "label-prior-v1"


def test_a_real_worker_retries_a_step_as_often_as_the_setting_says(
    celery_worker_on_broker, image_server, settings, monkeypatch
):
    """PHOTO_STEP_MAX_RETRIES is the one limit: above Celery's own default of 3 retries, the
    step is still tried 1 + PHOTO_STEP_MAX_RETRIES times, and the photo is then recorded as
    failed after that many tries (no MaxRetriesExceededError, no traceback)."""
    from ingest import runner
    from ingest.imports import photos_import_lines

    monkeypatch.setattr(runner, "backoff_seconds", lambda retries: 0.05)
    settings.PHOTO_STEP_MAX_RETRIES = 5
    model_version_label_prior_ensure()
    image_server.routes["/busy.jpg"] = (503, {}, b"busy")
    batch = photos_import_lines(text=f"{image_server.url('/busy.jpg')},oslo")

    counts = _wait_until_finished(batch.pk, timeout=60)

    photo = Photo.objects.get()
    assert counts["failed"] == 1, (counts, photo.status_reason)
    assert image_server.requests.count("/busy.jpg") == 6
    assert photo.status_reason.endswith("(failed after 6 tries)")
    assert "MaxRetriesExceeded" not in photo.status_reason


def test_readiness_and_metrics_read_the_real_brokers_queues(client, settings):
    from tests.conftest import _real_broker_url

    if not _real_broker_url():
        pytest.skip("needs a real broker: set CELERY_BROKER_URL=redis://... or amqp://...")
    model_version_label_prior_ensure()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.METRICS_PUBLIC = True
    body = client.get("/api/v1/health/ready/").json()
    assert body["status"] == "ready", body
    assert "celery=" in body["checks"]["broker"]["detail"]
    metrics = client.get("/metrics").content.decode()
    assert 'cityvibes_celery_queue_length{queue="celery"}' in metrics
    assert 'cityvibes_celery_queue_length{queue="ml"}' in metrics
