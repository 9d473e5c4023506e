"""The admin's jobs page in real Chromium: a staff member logs in, watches the counts change
when a photo is imported in the background (no reload), pauses and resumes ingestion."""

import pytest
from django.contrib.auth import get_user_model

from ingest.jobs import ingestion_paused
from ingest.runner import photo_ingest
from ml.scoring import model_version_label_prior_ensure
from photos.models import City, Photo

from .conftest import DESKTOP, eventually

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # The API routes in front of the site's own (ingest/tests/test_jobs.py), so the page works
    # before and after cityvibes/api_urls.py wires them.
    pytest.mark.urls("ingest.tests.test_jobs"),
]


def _waiting_at_fetch(page) -> str:
    return page.locator('#jobs-steps tr[data-step="fetch"] td').first.text_content()


def test_the_jobs_page_counts_live_and_pauses_and_resumes(open_page, settings, monkeypatch):
    get_user_model().objects.create_superuser("boss", "", "a-long-admin-password")
    model_version_label_prior_ensure()
    queued = []
    monkeypatch.setattr("ingest.runner.queue_step", lambda *args: queued.append(args))
    page = open_page(DESKTOP)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-admin-password")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.get_by_role("link", name="Jobs").first.click()
    page.wait_for_url("**/admin/ingest/pipelineswitch/")
    assert _waiting_at_fetch(page) == "0"

    # A photo arrives in the background (its step queued, not run): the page counts it.
    photo_ingest(image_url="https://images.example.com/a.jpg", city=City.objects.first())
    eventually(lambda: _waiting_at_fetch(page) == "1")

    page.get_by_role("button", name="Pause ingestion").click()
    page.get_by_role("button", name="Resume ingestion").wait_for()
    assert ingestion_paused()
    assert "paused" in page.locator("#jobs-switch").text_content()

    queued.clear()
    page.get_by_role("button", name="Resume ingestion").click()
    page.get_by_role("button", name="Pause ingestion").wait_for()
    eventually(lambda: not ingestion_paused())
    eventually(lambda: "Queued 1 photos" in page.locator("#jobs-message").text_content())
    assert queued == [(Photo.objects.get().pk, "fetch")]
    assert errors == []
