"""Micro-batches and chained steps (ingest/batching.py, ingest/runner.py): photos waiting at a
model step are scored in one predict, carried together to the deck, each exactly once; a photo
that cannot be scored stays for its own task; stale tasks do nothing."""

import threading

import pytest
from django.db import connection

from ingest import pipeline as pipeline_steps
from ingest.imports import photos_import_lines
from ingest.runner import pipeline_run_step
from photos.models import Photo
from tests.pictures import jpeg, textured

pytestmark = pytest.mark.django_db


def _waiting_at_score(image_server, capture, count: int, city: str = "paris") -> list[Photo]:
    """``count`` imported photos taken through fetch ... dedupe by their tasks, none handed on:
    all waiting at the score step."""
    urls = [image_server.image(f"/b{n}.jpg", jpeg(textured(500 + n))) for n in range(count)]
    with capture(execute=False):  # nothing queued runs: each photo stops at the ml queue
        photos_import_lines(text="\n".join(f"{url},{city}" for url in urls))
        photos = list(Photo.objects.filter(image_url__in=urls).order_by("pk"))
        for photo in photos:
            assert pipeline_run_step(photo_id=photo.pk, step="fetch") == "score"
    photos = list(Photo.objects.filter(pk__in=[p.pk for p in photos]).order_by("pk"))
    assert {photo.pipeline_step for photo in photos} == {"score"}
    return photos


@pytest.fixture
def predictions(monkeypatch):
    """The number of rows of every model predict call, in order."""
    from ml import cnn

    rows, original = [], cnn.predict

    def counted(model, pixels, *args, **kwargs):
        rows.append(len(pixels))
        return original(model, pixels, *args, **kwargs)

    monkeypatch.setattr(cnn, "predict", counted)
    return rows


@pytest.fixture
def queued(monkeypatch):
    """What the runner queues: (photo id, step, countdown)."""
    calls = []
    monkeypatch.setattr(
        "ingest.runner.queue_step",
        lambda photo_id, step, countdown=None: calls.append((photo_id, step, countdown)),
    )
    return calls


def test_photos_waiting_at_a_model_step_are_scored_in_one_predict_and_reach_the_deck(
    cnn_version, image_server, django_capture_on_commit_callbacks, predictions, queued
):
    from ml import activation as activations

    with django_capture_on_commit_callbacks(execute=True):
        activations.model_version_activate(version_id=cnn_version.pk)
    photos = _waiting_at_score(image_server, django_capture_on_commit_callbacks, 5)
    predictions.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline_run_step(photo_id=photos[2].pk, step="score") == ""
    assert predictions == [5]  # one predict for the five (no attribute or ImageNet model)
    for photo in Photo.objects.filter(pk__in=[p.pk for p in photos]):
        assert photo.status == Photo.Status.PUBLISHED and photo.model_version == cnn_version
        assert photo.analysis["score"]["batch_size"] == 5
        assert photo.analysis["publish"]["batch_size"] == 5
        assert photo.analysis["score_attributes"]["output"] == {
            "skipped": "no active attributes model"
        }
    assert queued == []  # score to publish in one task: nothing handed on
    for photo in photos:  # each photo's own task comes later and finds its step done
        assert pipeline_run_step(photo_id=photo.pk, step="score") is None
    assert queued == [] and predictions == [5]


def test_a_photo_that_cannot_be_scored_stays_at_its_step_and_the_batch_goes_on(
    cnn_version, image_server, django_capture_on_commit_callbacks, predictions, queued
):
    from ml import activation as activations

    with django_capture_on_commit_callbacks(execute=True):
        activations.model_version_activate(version_id=cnn_version.pk)
    good, broken, other = _waiting_at_score(image_server, django_capture_on_commit_callbacks, 3)
    with open(broken.normalized.path, "wb") as handle:
        handle.write(b"not a jpeg any more")
    with django_capture_on_commit_callbacks(execute=True):
        pipeline_run_step(photo_id=good.pk, step="score")
    good.refresh_from_db()
    broken.refresh_from_db()
    other.refresh_from_db()
    assert good.status == other.status == Photo.Status.PUBLISHED
    assert broken.status == Photo.Status.PENDING and broken.pipeline_step == "score"
    assert "cannot be decoded" in broken.status_reason and broken.probabilities is None
    # Its own task retries it (the task counts the tries): the error reaches the task.
    with pytest.raises(pipeline_steps.TransientStepError, match="cannot be decoded"):
        pipeline_run_step(photo_id=broken.pk, step="score")
    assert queued == []


def test_the_intake_steps_run_in_one_task_and_the_model_step_is_queued_with_the_batch_wait(
    label_prior, image_server, django_capture_on_commit_callbacks, queued, settings
):
    settings.PHOTO_PIPELINE_BATCH_WAIT_MS = 250
    url = image_server.image("/w.jpg", jpeg(textured(79)))
    with django_capture_on_commit_callbacks(execute=False):
        photos_import_lines(text=f"{url},oslo")
    photo = Photo.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline_run_step(photo_id=photo.pk, step="fetch") == "score"
    photo.refresh_from_db()
    assert set(photo.analysis) == {"fetch", "validate", "quality", "dedupe"}
    # Delivered late, so that the photos behind it join its batch.
    assert queued == [(photo.pk, "score", 0.25)]


def test_a_stale_task_does_nothing_and_a_redelivered_one_hands_the_photo_on(
    label_prior, image_server, django_capture_on_commit_callbacks, queued, settings
):
    # Each step on its own queue: one task per step, so the photo stops after score.
    settings.PHOTO_PIPELINE_QUEUES = {step: step for step in pipeline_steps.step_names("import")}
    url = image_server.image("/s.jpg", jpeg(textured(77)))
    with django_capture_on_commit_callbacks(execute=False):
        photos_import_lines(text=f"{url},rome")
    photo = Photo.objects.get()
    for step in ("fetch", "validate", "quality", "dedupe", "score"):
        with django_capture_on_commit_callbacks(execute=True):
            pipeline_run_step(photo_id=photo.pk, step=step)
    queued.clear()
    assert pipeline_run_step(photo_id=photo.pk, step="score") is None
    assert queued == []  # another task's batch ran it: that one handed the photo on
    assert pipeline_run_step(photo_id=photo.pk, step="score", redelivered=True) is None
    assert queued == [(photo.pk, "score_attributes", None)]  # its worker may have died first


def test_a_step_that_crashes_after_the_batch_fails_every_photo_carried_there(
    label_prior, image_server, django_capture_on_commit_callbacks, monkeypatch
):
    from ingest import steps

    def broken(photo):
        raise RuntimeError("the deck fell over")

    photos = _waiting_at_score(image_server, django_capture_on_commit_callbacks, 3)
    monkeypatch.setattr(steps, "publish", broken)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline_run_step(photo_id=photos[0].pk, step="score")
    for photo in Photo.objects.filter(pk__in=[p.pk for p in photos]):
        assert photo.status == Photo.Status.FAILED and photo.pipeline_step == "publish"
        assert "RuntimeError: the deck fell over" in photo.status_reason
        assert photo.analysis["score"]["batch_size"] == 3  # scored before, and kept


def test_a_transient_failure_at_a_carried_step_gets_a_task_of_its_own_after_a_backoff(
    label_prior, image_server, django_capture_on_commit_callbacks, monkeypatch, queued
):
    from ingest import steps

    def busy(photo):
        raise pipeline_steps.TransientStepError("the gate is busy")

    monkeypatch.setattr(steps, "quality", busy)
    url = image_server.image("/t.jpg", jpeg(textured(78)))
    with django_capture_on_commit_callbacks(execute=False):
        photos_import_lines(text=f"{url},rome")
    photo = Photo.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline_run_step(photo_id=photo.pk, step="fetch") == "quality"
    photo.refresh_from_db()
    assert photo.pipeline_step == "quality" and photo.status == Photo.Status.PENDING
    [(photo_id, step, countdown)] = queued
    assert (photo_id, step) == (photo.pk, "quality") and countdown > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_batching_at_once_score_every_photo_exactly_once(
    label_prior, image_server, settings, monkeypatch, django_capture_on_commit_callbacks, queued
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) are PostgreSQL's; SQLite runs one writer")
    from ml import scoring

    settings.PHOTO_PIPELINE_BATCH_SIZE = 3
    photos = _waiting_at_score(image_server, django_capture_on_commit_callbacks, 6)
    scored, original = [], scoring._label_prior_arrays
    started = threading.Barrier(2)

    def slow(version, batch):
        scored.append(sorted(photo.pk for photo in batch))
        threading.Event().wait(0.3)  # both batches hold their photos at once
        return original(version, batch)

    monkeypatch.setattr(scoring, "_label_prior_arrays", slow)
    errors = []

    def worker(photo_id):
        try:
            started.wait()
            pipeline_run_step(photo_id=photo_id, step="score")
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(photos[n].pk,)) for n in (0, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    everyone = [photo_id for batch in scored for photo_id in batch]
    assert sorted(everyone) == sorted(p.pk for p in photos)  # each one scored exactly once
    states = {p.pk: (p.status, p.pipeline_step, p.status_reason) for p in Photo.objects.all()}
    assert all(status == Photo.Status.PUBLISHED for status, _, _ in states.values()), sorted(
        states.items()
    )
