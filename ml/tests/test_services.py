import io

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from ml import services
from ml.models import ModelVersion
from ml.synthetic import city_photo_jpeg, city_style, draw_city_photo
from photos.models import Photo
from tests.factories import pending_photo

pytestmark = pytest.mark.django_db


def test_label_prior_is_created_once_and_made_active():
    first = services.model_version_label_prior_ensure()
    second = services.model_version_label_prior_ensure()
    assert first.pk == second.pk and first.is_active
    assert len(first.classes) == 266 and first.classes == sorted(first.classes)
    assert ModelVersion.objects.filter(is_active=True).count() == 1


def test_label_prior_array_is_a_distribution_peaked_on_the_label(label_prior):
    array = services.label_prior_probabilities(classes=label_prior.classes, city_slug="rome")
    assert sum(array) == pytest.approx(1.0)
    assert array[label_prior.classes.index("rome")] == services.LABEL_PRIOR_WEIGHT
    with pytest.raises(ValueError, match="not one of the model's classes"):
        services.label_prior_probabilities(classes=label_prior.classes, city_slug="gotham")


def test_scoring_is_idempotent_and_waits_for_what_it_needs():
    photo = pending_photo(city_slug="lisbon")
    assert services.photo_score(photo_id=photo.pk) is False
    photo.refresh_from_db()
    assert photo.status_reason == "No active model version."

    services.model_version_label_prior_ensure()
    assert services.photo_score(photo_id=photo.pk) is True
    photo.refresh_from_db()
    position = photo.queue_position
    assert photo.status == Photo.Status.PUBLISHED and position is not None
    assert services.photo_score(photo_id=photo.pk) is True  # a second run changes nothing
    photo.refresh_from_db()
    assert photo.queue_position == position

    unlabelled = pending_photo(city_slug=None)
    assert services.photo_score(photo_id=unlabelled.pk) is False
    assert services.photo_score(photo_id=987654) is False


def test_synthetic_photos_are_deterministic_per_city_and_vary_per_photo():
    assert city_style("paris") == city_style("paris")
    assert city_style("paris") != city_style("tokyo")
    assert city_photo_jpeg("paris", 3) == city_photo_jpeg("paris", 3)
    a = np.asarray(draw_city_photo("paris", 0), dtype=float)
    b = np.asarray(draw_city_photo("paris", 1), dtype=float)
    assert a.shape == (320, 320, 3) and np.abs(a - b).mean() > 1.0
    decoded = Image.open(io.BytesIO(city_photo_jpeg("oslo", 0, size=64)))
    assert decoded.format == "JPEG" and decoded.size == (64, 64)


def test_seed_demo_fills_the_deck_with_synthetic_scored_photos(
    settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", cities=3, per_city=2, stdout=io.StringIO())
    photos = Photo.objects.all()
    assert photos.count() == 6
    assert all(p.is_synthetic and p.status == Photo.Status.PUBLISHED for p in photos)
    assert all(p.image.name.endswith(".jpg") for p in photos)
    assert sorted(p.queue_position for p in photos) == list(range(6))
    labels_in_queue_order = [p.city.slug for p in photos.order_by("queue_position")]
    assert labels_in_queue_order != sorted(labels_in_queue_order)  # shuffled, not city by city

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "exist already" in out.getvalue() and Photo.objects.count() == 6


def test_score_photos_command_publishes_what_it_can(label_prior):
    labelled, unlabelled = pending_photo(city_slug="oslo"), pending_photo(city_slug=None)
    out = io.StringIO()
    call_command("score_photos", stdout=out)
    assert "1 of 2 pending photos scored" in out.getvalue()
    labelled.refresh_from_db()
    unlabelled.refresh_from_db()
    assert labelled.status == Photo.Status.PUBLISHED
    assert unlabelled.status == Photo.Status.PENDING


def test_tensorflow_tasks_are_routed_to_their_own_queue():
    from cityvibes.celery import app

    router = app.amqp.router
    for name in ("score_photo", "rescore_photos_chunk", "recompute_profiles_chunk"):
        assert router.route({}, f"ml.tasks.{name}")["queue"].name == "ml"
    assert router.route({}, "celery.backend_cleanup")["queue"].name == "celery"
