"""Activating a model version rescores every photo and recomputes everyone's scores; rolling
back is activating the older one."""

import io

import pytest
from django.core.management import CommandError, call_command

from ml import activation as activations
from ml.models import Activation, ModelVersion
from photos.models import Photo
from tests.factories import UserFactory, pending_photo, stored_published_photos
from users import selectors as user_selectors
from users import services as user_services
from users.models import Profile

pytestmark = pytest.mark.django_db

CITIES = ["oslo", "paris", "rome"]  # the cnn_version fixture's classes (conftest.py)


def _stored_photos(count):
    return stored_published_photos(count, cities=CITIES)


def _assert_everyone_matches_the_recompute(users):
    for user in users:
        profile = Profile.objects.get(user=user)
        expected, count = user_selectors.scores_from_history(user_id=user.pk)
        assert count == profile.swipe_count
        assert profile.city_scores == pytest.approx(expected)


def test_activation_rescores_photos_and_recomputes_people_then_rolls_back(
    cnn_version, label_prior, settings, django_capture_on_commit_callbacks
):
    settings.ML_SCORING_CHUNK_SIZE = 4
    settings.ML_RECOMPUTE_CHUNK_SIZE = 2
    photos = _stored_photos(9)
    waiting = pending_photo(city_slug="oslo")  # not scored yet: its score step will do it
    users = [UserFactory() for _ in range(3)]
    for number, user in enumerate(users):
        for photo in photos[number : number + 5]:
            user_services.swipe_record(user=user, photo_id=photo.pk, direction="right")
    before = {u.pk: dict(Profile.objects.get(user=u).city_scores) for u in users}

    with django_capture_on_commit_callbacks(execute=True):
        activation = activations.model_version_activate(version_id=cnn_version.pk)
    activation.refresh_from_db()

    assert activation.status == Activation.Status.DONE and activation.progress == 1.0
    assert (activation.photos_total, activation.photos_done) == (9, 9)
    assert activation.photos_scored == 9
    assert (activation.profiles_total, activation.profiles_drifted) == (3, 3)
    assert len(activation.finished_chunks) == 3 + 2  # 9 photos by 4, 3 people by 2
    for photo in photos:
        photo.refresh_from_db()
        assert photo.model_version == cnn_version and len(photo.probabilities) == 3
    waiting.refresh_from_db()
    assert waiting.status == Photo.Status.PENDING and waiting.probabilities is None
    _assert_everyone_matches_the_recompute(users)
    assert Profile.objects.get(user=users[0]).city_scores != before[users[0].pk]

    # rolling back: activating the label prior again restores the original totals
    with django_capture_on_commit_callbacks(execute=True):
        activations.model_version_activate(version_id=label_prior.pk)
    _assert_everyone_matches_the_recompute(users)
    for user in users:
        assert Profile.objects.get(user=user).city_scores == pytest.approx(before[user.pk])
    assert ModelVersion.objects.get(is_active=True) == label_prior


def test_a_redelivered_chunk_changes_nothing(cnn_version, django_capture_on_commit_callbacks):
    photos = _stored_photos(3)
    with django_capture_on_commit_callbacks(execute=True):
        activation = activations.model_version_activate(version_id=cnn_version.pk)
    activation.refresh_from_db()
    done = (activation.photos_done, activation.photos_scored)
    Activation.objects.filter(pk=activation.pk).update(status=Activation.Status.RESCORING)
    activations.activation_rescore_chunk(
        activation_id=activation.pk, chunk_index=0, photo_ids=[p.pk for p in photos]
    )
    activation.refresh_from_db()
    assert (activation.photos_done, activation.photos_scored) == done


def test_activation_refusals(cnn_version):
    cnn_version.status = ModelVersion.Status.FAILED
    cnn_version.save()
    with pytest.raises(CommandError, match="only ready versions"):
        call_command("activate_model", "cnn-test")
    with pytest.raises(CommandError, match="No model version named"):
        call_command("activate_model", "nope")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # real commits, as in use
def test_activate_model_command_waits_and_reports(cnn_version):
    _stored_photos(3)
    out = io.StringIO()
    call_command("activate_model", "cnn-test", "--timeout", "60", stdout=out)
    assert "cnn-test is active: 3 of 3 photos scored with it" in out.getvalue()
    out = io.StringIO()
    call_command("activate_model", "label-prior-v1", "--no-wait", stdout=out)
    assert "queued" in out.getvalue()
