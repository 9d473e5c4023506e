"""A photo in the pipeline while a model version is activated: rescored with the new version,
out of the deck until its own publish step."""

import pytest

from ingest.imports import photos_import_lines
from ingest.pipeline import step_names
from ingest.runner import pipeline_run_step
from ml import activation as activations
from ml.models import Activation
from ml.selectors import model_version_active
from photos.models import Photo
from photos.selectors import photo_deck
from tests.factories import stored_published_photos
from tests.pictures import jpeg, textured

pytestmark = pytest.mark.django_db


def test_a_photo_mid_pipeline_during_an_activation_stays_out_of_the_deck_until_publish(
    cnn_version, image_server, django_capture_on_commit_callbacks, settings
):
    # Each step on a queue of its own: one task per step, so the test can stop between them.
    settings.PHOTO_PIPELINE_QUEUES = {step: step for step in step_names("import")}
    stored_published_photos(3)
    urls = [image_server.image(f"/{n}.jpg", jpeg(textured(80 + n))) for n in range(2)]
    with django_capture_on_commit_callbacks(execute=False):  # steps run by hand below
        photos_import_lines(text="\n".join(f"{url},paris" for url in urls))
        ahead, behind = Photo.objects.filter(image_url__in=urls).order_by("pk")
        steps = step_names("import")
        for step in steps[: steps.index("publish")]:  # every step up to the deck
            pipeline_run_step(photo_id=ahead.pk, step=step)
        for step in ("fetch", "validate", "quality", "dedupe"):
            pipeline_run_step(photo_id=behind.pk, step=step)
    ahead.refresh_from_db()
    assert ahead.pipeline_step == "publish" and ahead.model_version == model_version_active()

    with django_capture_on_commit_callbacks(execute=True):
        activation = activations.model_version_activate(version_id=cnn_version.pk)
    activation.refresh_from_db()
    assert activation.status == Activation.Status.DONE and activation.photos_total == 3 + 1

    ahead.refresh_from_db()
    behind.refresh_from_db()
    deck = set(photo_deck().values_list("pk", flat=True))
    assert ahead.model_version == cnn_version  # rescored with the new version ...
    assert ahead.status == Photo.Status.PENDING and ahead.pk not in deck  # ... not published
    assert behind.probabilities is None and behind.pk not in deck

    with django_capture_on_commit_callbacks(execute=True):
        pipeline_run_step(photo_id=ahead.pk, step="publish")
        pipeline_run_step(photo_id=behind.pk, step="score")
    ahead.refresh_from_db()
    behind.refresh_from_db()
    deck = set(photo_deck().values_list("pk", flat=True))
    assert {ahead.pk, behind.pk} <= deck
    assert ahead.model_version == behind.model_version == cnn_version
