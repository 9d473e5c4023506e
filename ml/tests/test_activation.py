"""Activating a model version rescores every photo and recomputes everyone's scores; rolling
back is activating the older one."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from ml import cnn, runtime, services
from ml.models import Activation, ModelVersion
from ml.synthetic import city_photo_jpeg
from photos import services as photo_services
from photos.models import Photo
from tests.factories import UserFactory, pending_photo, published_photo
from users import selectors as user_selectors
from users import services as user_services
from users.models import Profile

pytestmark = pytest.mark.django_db

CITIES = ["oslo", "paris", "rome"]


@pytest.fixture
def cnn_version(tmp_path, label_prior):
    model = cnn.make_model(backbone="mobilenetv3small", num_classes=3, image_size=32)
    model.save(tmp_path / "m.keras")
    version = ModelVersion(
        name="cnn-test", kind=ModelVersion.Kind.KERAS, classes=CITIES,
        backbone="mobilenetv3small", image_size=32,
    )  # fmt: skip
    version.artifact.save("m.keras", ContentFile((tmp_path / "m.keras").read_bytes()), save=False)
    version.save()
    runtime._load.cache_clear()
    return version


def _stored_photos(count):
    return [
        published_photo(city_slug=CITIES[i % 3], image=city_photo_jpeg(CITIES[i % 3], i))
        for i in range(count)
    ]


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
        activation = services.model_version_activate(version_id=cnn_version.pk)
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
        services.model_version_activate(version_id=label_prior.pk)
    _assert_everyone_matches_the_recompute(users)
    for user in users:
        assert Profile.objects.get(user=user).city_scores == pytest.approx(before[user.pk])
    assert ModelVersion.objects.get(is_active=True) == label_prior


def test_a_redelivered_chunk_changes_nothing(cnn_version, django_capture_on_commit_callbacks):
    photos = _stored_photos(3)
    with django_capture_on_commit_callbacks(execute=True):
        activation = services.model_version_activate(version_id=cnn_version.pk)
    activation.refresh_from_db()
    done = (activation.photos_done, activation.photos_scored)
    Activation.objects.filter(pk=activation.pk).update(status=Activation.Status.RESCORING)
    services.activation_rescore_chunk(
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


def test_a_photo_mid_pipeline_during_an_activation_stays_out_of_the_deck_until_publish(
    cnn_version, image_server, django_capture_on_commit_callbacks
):
    from photos.imports import photos_import_lines
    from photos.selectors import photo_deck
    from photos.tests.test_pipeline import jpeg, textured

    _stored_photos(3)
    urls = [image_server.image(f"/{n}.jpg", jpeg(textured(80 + n))) for n in range(2)]
    with django_capture_on_commit_callbacks(execute=False):  # steps run by hand below
        photos_import_lines(text="\n".join(f"{url},paris" for url in urls))
        ahead, behind = Photo.objects.filter(image_url__in=urls).order_by("pk")
        for step in ("fetch", "validate", "quality", "dedupe", "score"):
            photo_services.pipeline_run_step(photo_id=ahead.pk, step=step)
        for step in ("fetch", "validate", "quality", "dedupe"):
            photo_services.pipeline_run_step(photo_id=behind.pk, step=step)
    ahead.refresh_from_db()
    assert (
        ahead.pipeline_step == "publish" and ahead.model_version == services.model_version_active()
    )

    with django_capture_on_commit_callbacks(execute=True):
        activation = services.model_version_activate(version_id=cnn_version.pk)
    activation.refresh_from_db()
    assert activation.status == Activation.Status.DONE and activation.photos_total == 3 + 1

    ahead.refresh_from_db()
    behind.refresh_from_db()
    deck = set(photo_deck().values_list("pk", flat=True))
    assert ahead.model_version == cnn_version  # rescored with the new version ...
    assert ahead.status == Photo.Status.PENDING and ahead.pk not in deck  # ... not published
    assert behind.probabilities is None and behind.pk not in deck

    with django_capture_on_commit_callbacks(execute=True):
        photo_services.pipeline_run_step(photo_id=ahead.pk, step="publish")
        photo_services.pipeline_run_step(photo_id=behind.pk, step="score")
    ahead.refresh_from_db()
    behind.refresh_from_db()
    deck = set(photo_deck().values_list("pk", flat=True))
    assert {ahead.pk, behind.pk} <= deck
    assert ahead.model_version == behind.model_version == cnn_version
