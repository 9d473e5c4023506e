"""The admin as an ML workbench, in a real browser: a staff member trains a tiny city model from
the admin, watches its job's live page (progress, curves) until it ends, reads the new
version's page, compares it with the active one, activates it after the confirmation, and a
guest then swipes on the deck it scored. Nothing the site's CSP blocks on the way."""

import pytest
from django.contrib.auth import get_user_model

from ml.models import Activation, ModelVersion, TrainingJob
from ml.scoring import model_version_label_prior_ensure
from tests.factories import stored_published_photos

from .conftest import DESKTOP, image_loaded, start_as_guest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _log_in(page):
    get_user_model().objects.create_superuser("boss", "", "a-long-admin-password")
    page.goto("/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-admin-password")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def test_train_watch_compare_activate_then_swipe(open_page, screenshot, settings, axe):
    settings.ML_TRAINING_IN_THREAD = True  # as in the embedded default: the request returns
    model_version_label_prior_ensure()
    stored_published_photos(9)  # oslo, paris, rome
    page = open_page(DESKTOP)
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    _log_in(page)

    page.goto("/admin/ml/modelversion/")
    page.get_by_role("link", name="Train a model").click()
    page.wait_for_url("**/admin/ml/modelversion/train/")
    axe(page, "admin-train-form")
    page.fill("#id_name", "city-browser")
    page.select_option("#id_backbone", "mobilenetv3small")
    page.check("input[name=weights][value=none]")
    page.fill("#id_image_size", "32")
    page.fill("#id_epochs", "2")
    assert page.locator("input[name=cities]:checked").count() == 3  # every city by default
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**/admin/ml/trainingjob/*/change/")

    # the live page: polled progress, then curves of both epochs and the version's link
    status = page.locator("#training-live [data-field=status]")
    page.wait_for_function(
        "() => ['succeeded', 'failed', 'cancelled'].includes("
        "document.querySelector('#training-live [data-field=status]').textContent)",
        timeout=120_000,
    )
    job = TrainingJob.objects.get(name="city-browser")
    assert status.text_content() == "succeeded", job.error
    assert page.locator("#training-progress").get_attribute("value") == "100"
    assert page.locator("#training-live [data-field=epoch]").text_content() == "2 / 2"
    assert page.locator("#curve-loss").get_attribute("data-points") == "2"
    assert page.locator("#curve-loss path.ml-train").count() == 1
    assert page.locator("#curve-loss path.ml-validation").count() == 1
    assert page.locator("#curve-score path").count() == 2
    assert page.locator("#curve-loss text", has_text="epoch").count() == 1  # axes labelled
    assert page.locator("#training-cancel").is_hidden()
    screenshot(page, "admin-training-job")
    axe(page, "admin-training-job")

    # the version's page: tables and charts
    page.get_by_role("link", name="Open the new version city-browser").click()
    page.wait_for_url("**/admin/ml/modelversion/*/change/")
    page.get_by_text("Per-city accuracy (validation)").wait_for()
    assert page.locator("table.ml-calibration").count() == 1
    screenshot(page, "admin-model-version")
    axe(page, "admin-model-version")

    # beside the active one
    page.get_by_role("link", name="Compare with the active city version").click()
    page.wait_for_url("**/compare/")
    page.get_by_text("label-prior-v1 (active)").first.wait_for()
    assert page.locator("#ml-compare").count() == 1
    axe(page, "admin-model-compare")

    # activate, after the confirmation
    page.get_by_role("link", name="Activate city-browser…").click()
    page.wait_for_url("**/activate/")
    assert page.locator("#ml-photos-count").text_content() == "9"
    axe(page, "admin-model-activate")
    page.get_by_role("button", name="Yes, activate city-browser").click()
    page.wait_for_url("**/admin/ml/activation/*/change/")
    version = ModelVersion.objects.get(name="city-browser")
    assert version.is_active
    assert Activation.objects.get(model_version=version).status == Activation.Status.DONE

    # the active version has no activate button any more
    page.goto(f"/admin/ml/modelversion/{version.pk}/change/")
    page.get_by_text("The active city version", exact=True).wait_for()
    assert page.get_by_role("link", name="Activate…").count() == 0
    assert blocked == []

    # a guest swipes on the deck the new model scored
    guest_page = open_page(DESKTOP)
    start_as_guest(guest_page)
    assert image_loaded(guest_page.locator(".card.top img"))
