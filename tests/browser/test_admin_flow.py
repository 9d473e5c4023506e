"""An admin's whole path, in a real browser against the app as people run it (tests/browser/
servers.py): the embedded default (runserver, SQLite, work in the web process's background
threads) in the SQLite run, PostgreSQL + Redis + a real Celery worker in the PostgreSQL run.

From "a folder of city photos" (a zip of city folders) through the admin's import, training with
live progress, the new version's page, the comparison, the activation after its confirmation, to
a guest swiping on those photos scored by the model trained on them. Every admin request's time
is written to test-artifacts/admin-flow-<mode>.json (docs/BENCHMARKS.md reads it); the test
checks that the training's form came back before the training ended: it ran elsewhere."""

import io
import json
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ml.synthetic import city_photo_jpeg

from .conftest import DESKTOP, image_loaded, press
from .servers import ADMIN_PASSWORD, ADMIN_USER, running_app

pytestmark = pytest.mark.browser

CITIES = ("kyoto", "lisbon", "reykjavik")
PER_CITY = 6
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _zip_of_city_folders() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for slug in CITIES:
            for index in range(PER_CITY):
                bundle.writestr(f"{slug}/{index}.jpg", city_photo_jpeg(slug, 300 + index, 480))
        bundle.writestr("README.txt", "not a photo")
    return buffer.getvalue()


def _json(page, path: str) -> dict:
    response = page.request.get(path)
    assert response.ok, (path, response.status, response.text()[:300])
    return response.json()


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture
def app(tmp_path):
    with running_app(tmp_path) as running:
        yield running


def test_from_a_folder_of_city_photos_to_people_swiping_on_them(browser, app, screenshot):
    context = browser.new_context(base_url=app.url, **DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    admin_requests = []
    page.on(
        "requestfinished",
        lambda request: (
            admin_requests.append(
                {"url": request.url, "ms": round(request.timing["responseEnd"], 1)}
            )
            if "/admin/" in request.url and request.resource_type == "document"
            else None
        ),
    )

    page.goto("/admin/login/")
    page.fill("#id_username", ADMIN_USER)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")

    # 1. The folder of city photos, as a zip, through the admin's import page.
    page.goto("/admin/photos/photo/import/")
    page.set_input_files(
        "#id_upload",
        {"name": "cities.zip", "mimeType": "application/zip", "buffer": _zip_of_city_folders()},
    )
    page.click("input[type=submit][value=Import]")
    page.wait_for_url("**/admin/photos/importbatch/*/change/")
    batch_id = int(page.url.rstrip("/").split("/")[-2])
    batch = _wait(
        lambda: (b := _json(page, f"/api/v1/photos/imports/{batch_id}/"))["finished"] and b,
        180,
        "the import batch to finish",
    )
    assert batch["counts"]["done"] == len(CITIES) * PER_CITY, batch
    assert [entry["entry"] for entry in batch["skipped"]] == ["README.txt"]
    page.reload()
    page.get_by_text("README.txt").first.wait_for()
    screenshot(page, f"admin-flow-batch-{app.mode}")

    # 2. Train a city model on them, from the admin, and watch it.
    page.goto("/admin/ml/modelversion/train/")
    page.fill("#id_name", "city-from-folder")
    page.select_option("#id_backbone", "efficientnetlite0")
    page.check("input[name=weights][value=imagenet]")
    page.fill("#id_image_size", "64")
    page.fill("#id_epochs", "8")
    for slug in CITIES:
        assert page.locator(f"input[name=cities][value={slug}]").is_checked()
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**/admin/ml/trainingjob/*/change/")
    page_shown_at = datetime.now(UTC)
    status = page.locator("#training-live [data-field=status]")
    page.wait_for_function(
        "() => ['succeeded', 'failed', 'cancelled'].includes("
        "document.querySelector('#training-live [data-field=status]').textContent)",
        timeout=300_000,
    )
    job_id = int(page.url.rstrip("/").split("/")[-2])
    job = _json(page, f"/api/v1/admin/training-jobs/{job_id}/")
    assert status.text_content() == "succeeded", job.get("error")
    # The form's request came back before the training ended: it ran elsewhere.
    assert datetime.fromisoformat(job["finished_at"]) > page_shown_at
    assert len(job["history"]) >= 1 and job["model_version"]["name"] == "city-from-folder"
    assert page.locator("#curve-loss path.ml-train").count() == 1
    screenshot(page, f"admin-flow-training-{app.mode}")

    # 3. Its page, beside the active one, then activate after the confirmation.
    page.get_by_role("link", name="Open the new version city-from-folder").click()
    page.wait_for_url("**/admin/ml/modelversion/*/change/")
    page.get_by_role("link", name="Compare with the active city version").click()
    page.wait_for_url("**/compare/")
    page.get_by_role("link", name="Activate city-from-folder…").click()
    page.wait_for_url("**/activate/")
    assert page.locator("#ml-photos-count").text_content() == str(len(CITIES) * PER_CITY)
    page.get_by_role("button", name="Yes, activate city-from-folder").click()
    page.wait_for_url("**/admin/ml/activation/*/change/")
    _wait(
        lambda: (
            {k["kind"]: k["active"] for k in _json(page, "/api/v1/models/")["kinds"]}["city"]
            == "city-from-folder"
        ),
        30,
        "the new version to be the active city model",
    )

    # 4. People swipe on those photos, scored by the model trained on them.
    guest = browser.new_context(base_url=app.url, **DESKTOP).new_page()
    guest.goto("/")
    guest.get_by_role("button", name="Start swiping").click()
    guest.wait_for_url("**/swipe/")
    guest.locator(".card.top img").wait_for()
    assert image_loaded(guest.locator(".card.top img"))

    def scored_by_new_model():
        photos = _json(page, f"/api/v1/photos/imports/{batch_id}/photos/?limit=100")["results"]
        return all(p["model_version"] == "city-from-folder" for p in photos) and photos

    photos = _wait(scored_by_new_model, 120, "the photos to be rescored by the new model")
    assert len(photos) == len(CITIES) * PER_CITY
    assert {p["id"] for p in _json(guest, "/api/v1/photos/next/?limit=50")["results"]} <= {
        p["id"] for p in photos
    }
    for key in ("ArrowRight", "ArrowLeft", "ArrowRight"):
        press(guest, key)
    ranking = _json(guest, "/api/v1/recommendations/?limit=3")
    assert {city["slug"] for city in ranking["results"]} <= set(CITIES)
    screenshot(guest, f"admin-flow-swipe-{app.mode}")

    ARTIFACTS.mkdir(exist_ok=True)
    slowest = max(admin_requests, key=lambda request: request["ms"])
    (ARTIFACTS / f"admin-flow-{app.mode}.json").write_text(
        json.dumps({"mode": app.mode, "slowest": slowest, "requests": admin_requests}, indent=1)
    )
    context.close()
