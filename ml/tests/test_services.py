import io

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from ml import scoring
from ml.models import ModelVersion
from ml.synthetic import city_photo_jpeg, city_style, draw_city_photo
from photos.models import Photo
from tests.factories import pending_photo

pytestmark = pytest.mark.django_db


def test_label_prior_is_created_once_and_made_active():
    first = scoring.model_version_label_prior_ensure()
    second = scoring.model_version_label_prior_ensure()
    assert first.pk == second.pk and first.is_active
    assert len(first.classes) == 266 and first.classes == sorted(first.classes)
    assert ModelVersion.objects.filter(is_active=True).count() == 1


def test_label_prior_array_is_a_distribution_peaked_on_the_label(label_prior):
    array = scoring.label_prior_probabilities(classes=label_prior.classes, city_slug="rome")
    assert sum(array) == pytest.approx(1.0)
    assert array[label_prior.classes.index("rome")] == scoring.LABEL_PRIOR_WEIGHT
    with pytest.raises(ValueError, match="not one of the model's classes"):
        scoring.label_prior_probabilities(classes=label_prior.classes, city_slug="gotham")


def test_pipeline_scoring_stores_the_arrays_and_never_publishes():
    photo = pending_photo(city_slug="lisbon")
    assert not ModelVersion.objects.exists()  # a fresh install: the label prior stands in
    unlabelled = pending_photo(city_slug=None)
    scored = scoring.photos_score_for_pipeline(photos=[photo, unlabelled])
    version = ModelVersion.objects.get(is_active=True)
    assert version.name == scoring.LABEL_PRIOR_NAME
    photo.refresh_from_db()
    array = scored.outputs[photo.pk]
    assert scored.version == version and photo.probabilities == array
    assert photo.status == Photo.Status.PENDING and photo.queue_position is None
    again = scoring.photos_score_for_pipeline(photos=[photo])
    assert again.outputs[photo.pk] == array and not again.problems  # the same again
    # The unlabelled photo cannot be scored by the label prior: left out, saying why.
    assert unlabelled.pk not in scored.outputs
    assert "needs a city label" in scored.problems[unlabelled.pk]
    unlabelled.refresh_from_db()
    assert unlabelled.probabilities is None


def test_scores_of_a_version_that_went_out_are_not_written(label_prior):
    photo = pending_photo(city_slug="rome")
    successor = ModelVersion.objects.create(
        name="label-prior-v2",
        kind=ModelVersion.Kind.CITY,
        architecture=ModelVersion.Architecture.LABEL_PRIOR,
        classes=label_prior.classes,
    )
    ModelVersion.objects.filter(pk=label_prior.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=successor.pk).update(is_active=True)
    arrays = {
        photo.pk: scoring.label_prior_probabilities(classes=label_prior.classes, city_slug="rome")
    }
    with pytest.raises(scoring.CannotScore, match="no longer the active version"):
        scoring._record_if_still_active(label_prior, arrays)
    photo.refresh_from_db()
    assert photo.probabilities is None


def test_synthetic_photos_are_deterministic_per_city_and_vary_per_photo():
    assert city_style("paris") == city_style("paris")
    assert city_style("paris") != city_style("tokyo")
    assert city_photo_jpeg("paris", 3) == city_photo_jpeg("paris", 3)
    a = np.asarray(draw_city_photo("paris", 0), dtype=float)
    b = np.asarray(draw_city_photo("paris", 1), dtype=float)
    assert a.shape == (1350, 1080, 3) and np.abs(a - b).mean() > 1.0
    decoded = Image.open(io.BytesIO(city_photo_jpeg("oslo", 0, size=64)))
    assert decoded.format == "JPEG" and decoded.size == (64, 80)


def test_score_photos_command_rescores_and_never_publishes(label_prior, published_photos):
    (published,) = published_photos(1, cities=["oslo"])
    waiting = pending_photo(city_slug="oslo")
    successor = ModelVersion.objects.create(
        name="label-prior-v2",
        kind=ModelVersion.Kind.CITY,
        architecture=ModelVersion.Architecture.LABEL_PRIOR,
        classes=label_prior.classes,
    )
    ModelVersion.objects.filter(pk=label_prior.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=successor.pk).update(is_active=True)
    out = io.StringIO()
    call_command("score_photos", stdout=out)
    assert "1 of 1 photos rescored with label-prior-v2" in out.getvalue()
    published.refresh_from_db()
    waiting.refresh_from_db()
    assert published.model_version == successor and published.status == Photo.Status.PUBLISHED
    assert waiting.status == Photo.Status.PENDING and waiting.probabilities is None
