"""The ingestion pipeline end to end (tasks in-process) against a local web server: good,
broken, duplicate, unsafe, low-quality photos each end in the right state with a reason."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

from ingest import imports, steps
from ingest.runner import pipeline_resume, pipeline_run_step
from photos.models import ImportBatch, Photo
from photos.selectors import batch_counts
from tests.factories import UserFactory
from tests.pictures import jpeg, png, textured

pytestmark = pytest.mark.django_db


def run_import(capture, **kwargs) -> ImportBatch:
    with capture(execute=True):
        return imports.photos_import_lines(**kwargs)


def test_a_mixed_batch_ends_with_every_photo_accepted_or_rejected_with_a_reason(
    label_prior, image_server, django_capture_on_commit_callbacks
):
    first = jpeg(textured(1))
    server = image_server
    urls = {
        "good": server.image("/good.jpg", first),
        "png": server.image("/b.png", png(textured(2)), "image/png"),
        "exact": server.image("/copy-of-good.jpg", first),
        "near": server.image("/good-recompressed.jpg", jpeg(textured(1).resize((400, 300)), 60)),
        "redirected": server.redirect("/moved", server.url("/c.jpg")),
        "truncated": server.image("/cut.jpg", jpeg(textured(4))[:3000]),
        "html": server.image("/page.jpg", b"<html>not a photo</html>", "text/html"),
        "bomb": server.image("/bomb.png", png(Image.new("1", (9000, 9000))), "image/png"),
        "dark": server.image("/dark.jpg", jpeg(textured(5, brightness=0.08))),
        "tiny": server.image("/tiny.jpg", jpeg(textured(6, size=(120, 90)))),
        "missing": server.url("/nothing-here.jpg"),
        "to-loopback": server.redirect("/sneaky", server.url("/secret.jpg", host="127.0.0.1")),
        "loopback": server.url("/secret.jpg", host="127.0.0.1"),
        "metadata": "http://169.254.169.254/latest/meta-data/",
    }
    server.image("/c.jpg", jpeg(textured(3)))
    server.image("/secret.jpg", jpeg(textured(7)))
    text = "\n".join(f"{url},paris" for url in urls.values())

    batch = run_import(django_capture_on_commit_callbacks, text=text)

    photos = {name: Photo.objects.get(image_url=url) for name, url in urls.items()}
    published = {name for name, p in photos.items() if p.status == Photo.Status.PUBLISHED}
    assert published == {"good", "png", "redirected"}
    for name in published:
        photo = photos[name]
        assert photo.pipeline_step == "" and photo.queue_position is not None
        assert set(photo.analysis) == {
            "fetch", "validate", "dedupe", "quality", "score", "score_attributes",
            "score_imagenet", "publish",
        }  # fmt: skip
        assert photo.normalized and photo.thumbnail and photo.perceptual_hash
    assert photos["redirected"].analysis["fetch"]["output"]["redirects"] == 1
    for name in ("exact", "near"):
        assert photos[name].status == Photo.Status.DUPLICATE
        assert photos[name].duplicate_of_id == photos["good"].pk
    assert "Exact duplicate" in photos["exact"].status_reason
    assert "Near" in photos["near"].status_reason
    reasons = {
        "truncated": "truncated",
        "html": "not an image",
        "bomb": "decompression bomb",
        "dark": "too dark",
        "tiny": "too small",
        "missing": "HTTP 404",
        "to-loopback": "SSRF",
        "loopback": "SSRF",
        "metadata": "SSRF",
    }
    for name, words in reasons.items():
        assert photos[name].status == Photo.Status.REJECTED, name
        assert words in photos[name].status_reason, (name, photos[name].status_reason)
    assert "/secret.jpg" not in server.requests  # nothing was fetched from a private address
    counts = batch_counts(batch=batch)
    assert counts == {"queued": 0, "done": 3, "rejected": 9, "duplicate": 2, "failed": 0}
    assert sum(counts.values()) == batch.total == len(urls)


def test_a_step_run_twice_ends_the_same_and_a_stale_delivery_does_nothing(
    label_prior, image_server, django_capture_on_commit_callbacks
):
    url = image_server.image("/a.jpg", jpeg(textured(11)))
    with django_capture_on_commit_callbacks(execute=False):
        imports.photos_import_lines(text=f"{url},rome")
    photo = Photo.objects.get()
    assert photo.pipeline_step == "fetch"
    steps.fetch(photo)
    photo.refresh_from_db()
    received = photo.incoming.path
    assert not photo.image and Path(received).is_file()
    assert steps.fetch(photo)["skipped"]  # the bytes are there: a redelivered fetch does nothing
    assert len(image_server.requests) == 1
    with django_capture_on_commit_callbacks(execute=True):
        # fetch, validate, quality and dedupe in one task, then handed on to the ml queue
        assert pipeline_run_step(photo_id=photo.pk, step="fetch") == "score"
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PUBLISHED
    assert not photo.incoming and not Path(received).exists()  # validated: the bytes are gone
    analysis = photo.analysis
    for step in ("fetch", "validate", "quality", "publish"):
        assert pipeline_run_step(photo_id=photo.pk, step=step) is None
    photo.refresh_from_db()
    assert photo.analysis == analysis
    before = dict(photo.analysis["validate"]["output"])
    assert steps.validate(photo) == before  # the same files and output again


def test_transient_errors_retry_then_fail_and_the_photo_can_be_resumed(
    label_prior, image_server, django_capture_on_commit_callbacks, settings
):
    settings.PHOTO_STEP_MAX_RETRIES = 2
    image_server.routes["/flaky.jpg"] = (503, {}, b"busy")
    batch = run_import(
        django_capture_on_commit_callbacks, text=f"{image_server.url('/flaky.jpg')},oslo"
    )
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.FAILED and "HTTP 503" in photo.status_reason
    assert photo.pipeline_step == "fetch"
    assert image_server.requests.count("/flaky.jpg") == 3  # the first try and 2 retries
    assert batch_counts(batch=batch)["failed"] == 1

    image_server.image("/flaky.jpg", jpeg(textured(12)))
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline_resume(photo_ids=[photo.pk]) == 1
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PUBLISHED


def test_a_photo_the_model_cannot_score_fails_with_the_reason(
    label_prior, image_server, django_capture_on_commit_callbacks, settings
):
    settings.PHOTO_STEP_MAX_RETRIES = 1
    url = image_server.image("/unlabelled.jpg", jpeg(textured(13)))
    run_import(django_capture_on_commit_callbacks, text=f"{url},")
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.FAILED and photo.pipeline_step == "score"
    assert "label prior needs a city label" in photo.status_reason


def _zip(entries: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content in entries.items():
            bundle.writestr(name, content)
    buffer.seek(0)
    buffer.name = "photos.zip"
    return buffer


def test_zip_upload_over_the_api_is_admin_only_and_reports_progress(
    api_client, label_prior, django_capture_on_commit_callbacks
):
    archive = {
        "paris/one.jpg": jpeg(textured(21)),
        "Rome/two.png": png(textured(22)),
        "tokyo/broken.jpg": b"\xff\xd8\xff not really",
        "notes.txt": b"ignored",
    }
    api_client.force_authenticate(UserFactory())
    refused = api_client.post("/api/v1/photos/import", {"file": _zip(archive)}, format="multipart")
    assert refused.status_code == 403
    api_client.force_authenticate(UserFactory(is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/photos/import", {"file": _zip(archive)}, format="multipart"
        )
    assert response.status_code == 202, response.content
    batch_id = response.json()["id"]
    status = api_client.get(f"/api/v1/photos/imports/{batch_id}/").json()
    assert status["total"] == 3 and status["finished"] is True
    assert status["counts"] == {"queued": 0, "done": 2, "rejected": 1, "duplicate": 0, "failed": 0}
    rows = api_client.get(f"/api/v1/photos/imports/{batch_id}/photos/").json()["results"]
    assert {row["city"] for row in rows} == {"paris", "rome", "tokyo"}
    assert all(set(row["analysis"]) >= {"fetch", "validate"} for row in rows)

    bad = api_client.post(
        "/api/v1/photos/import",
        {"file": _zip({"atlantis/x.jpg": jpeg(textured(23))})},
        format="multipart",
    )
    assert bad.status_code == 400 and "atlantis" in bad.json()["meta"]["message"]
    assert api_client.post("/api/v1/photos/import", {}, format="json").status_code == 400
    not_zip = io.BytesIO(b"PK\x03\x04 broken")
    not_zip.name = "x.zip"
    broken = api_client.post("/api/v1/photos/import", {"file": not_zip}, format="multipart")
    assert broken.status_code == 400 and "zip" in broken.json()["meta"]["message"]
    assert ImportBatch.objects.count() == 1


def test_url_import_over_the_api(api_client, label_prior, image_server, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    api_client.force_authenticate(UserFactory(is_staff=True))
    url = image_server.image("/api.jpg", jpeg(textured(31)))
    response = api_client.post(
        "/api/v1/photos/import", {"urls": [url], "city": "Lisbon"}, format="json"
    )
    assert response.status_code == 202
    photo = Photo.objects.get()
    assert photo.city.slug == "lisbon" and photo.batch_id == response.json()["id"]
    unknown = api_client.post(
        "/api/v1/photos/import", {"urls": [url], "city": "Atlantis"}, format="json"
    )
    assert unknown.status_code == 400


def test_import_photos_command_reads_a_folder_tree(
    tmp_path, label_prior, django_capture_on_commit_callbacks
):
    (tmp_path / "berlin").mkdir()
    (tmp_path / "berlin" / "a.jpg").write_bytes(jpeg(textured(41)))
    (tmp_path / "berlin" / "b.jpg").write_bytes(jpeg(textured(41)))  # the same bytes
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_photos", str(tmp_path), "--no-wait", stdout=out)
    assert "2 photos queued" in out.getvalue()
    statuses = sorted(Photo.objects.values_list("status", flat=True))
    assert statuses == [Photo.Status.DUPLICATE, Photo.Status.PUBLISHED]


def test_resume_pipeline_command_requeues_failed_and_stalled_photos(
    label_prior, image_server, django_capture_on_commit_callbacks
):
    url = image_server.image("/later.jpg", jpeg(textured(61)))
    with django_capture_on_commit_callbacks(execute=False):  # the broker "was down"
        imports.photos_import_lines(text=f"{url},oslo")
    photo = Photo.objects.get()
    assert photo.pipeline_step == "fetch" and not image_server.requests
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("resume_pipeline", "--idle-minutes", "0", stdout=out)
    assert "Queued 1 photos again." in out.getvalue()
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PUBLISHED
