import contextlib
import random

import pytest
from django.contrib.auth import authenticate, get_user_model

from core.errors import ApplicationError, ConflictError, NotFoundError
from photos import services as photo_services
from tests.factories import UserFactory, pending_photo
from users import selectors, services
from users.models import Profile, Swipe

pytestmark = pytest.mark.django_db
User = get_user_model()


def scores_of(user):
    return Profile.objects.get(user=user).city_scores


def next_photos(user, limit):
    return selectors.photos_next(profile=selectors.profile_get(user=user), limit=limit)


def recommendations(user, limit):
    return selectors.recommendations(profile=selectors.profile_get(user=user), limit=limit)


def test_right_swipe_adds_the_array_and_left_subtracts_it(published_photos):
    # given a person and one Paris photo and one Rome photo
    user = UserFactory()
    paris, rome = published_photos(2, cities=("paris", "rome"))
    # when they like Paris and dislike Rome
    services.swipe_record(user=user, photo_id=paris.pk, direction="right")
    services.swipe_record(user=user, photo_id=rome.pk, direction="left")
    # then each city's score is the sum of + Paris's array and - Rome's array
    scores = scores_of(user)
    paris_array = paris.probability_by_slug()
    rome_array = rome.probability_by_slug()
    for slug in ("paris", "rome", "tokyo"):
        assert scores[slug] == pytest.approx(paris_array[slug] - rome_array[slug])
    assert scores["paris"] == pytest.approx(0.6 - 0.4 / 265)
    assert Profile.objects.get(user=user).swipe_count == 2


def test_identical_retry_is_not_counted_twice(published_photos):
    user = UserFactory()
    (photo,) = published_photos(1)
    first = services.swipe_record(user=user, photo_id=photo.pk, direction="right")
    before = scores_of(user)
    again = services.swipe_record(user=user, photo_id=photo.pk, direction="right")
    assert first.created and not again.created
    assert again.swipe.pk == first.swipe.pk
    assert scores_of(user) == before
    assert Swipe.objects.filter(user=user).count() == 1
    assert Profile.objects.get(user=user).swipe_count == 1


def test_other_direction_on_a_swiped_photo_is_a_conflict(published_photos):
    user = UserFactory()
    (photo,) = published_photos(1)
    services.swipe_record(user=user, photo_id=photo.pk, direction="right")
    with pytest.raises(ConflictError, match="Undo"):
        services.swipe_record(user=user, photo_id=photo.pk, direction="left")
    assert Swipe.objects.get(user=user).direction == "right"


def test_unknown_and_unscored_photos_cannot_be_swiped(label_prior):
    user = UserFactory()
    pending = pending_photo()
    with pytest.raises(NotFoundError):
        services.swipe_record(user=user, photo_id=pending.pk, direction="right")
    with pytest.raises(NotFoundError):
        services.swipe_record(user=user, photo_id=999_999, direction="right")
    with pytest.raises(ApplicationError, match="left' or 'right"):
        services.swipe_record(user=user, photo_id=pending.pk, direction="up")
    assert not Swipe.objects.exists()


def test_deck_serves_only_scored_unswiped_photos_in_queue_order(published_photos):
    user = UserFactory()
    first, second, third = published_photos(3)
    unscored = pending_photo()
    rejected = published_photos(1)[0]
    photo_services.photo_reject(photo_id=rejected.pk, reason="test")

    assert [p.pk for p in next_photos(user, 10)] == [
        first.pk,
        second.pk,
        third.pk,
    ]
    services.swipe_record(user=user, photo_id=first.pk, direction="left")
    deck = next_photos(user, 10)
    assert [p.pk for p in deck] == [second.pk, third.pk]
    assert unscored.pk not in {p.pk for p in deck}
    assert Profile.objects.get(user=user).queue_position == first.queue_position + 1


def test_undo_takes_the_last_swipe_back_and_serves_its_photo_again(published_photos):
    user = UserFactory()
    first, second, _ = published_photos(3)
    services.swipe_record(user=user, photo_id=first.pk, direction="right")
    after_first = scores_of(user)
    services.swipe_record(user=user, photo_id=second.pk, direction="right")

    undone = services.swipe_undo_last(user=user)

    assert undone.photo_id == second.pk and undone.pk is not None
    assert scores_of(user) == pytest.approx(after_first)
    assert Profile.objects.get(user=user).swipe_count == 1
    assert next_photos(user, 1)[0].pk == second.pk


def test_undo_with_no_swipes_is_not_found(db):
    with pytest.raises(NotFoundError):
        services.swipe_undo_last(user=UserFactory())


def test_reset_forgets_everything(published_photos):
    user = UserFactory()
    for photo in published_photos(3):
        services.swipe_record(user=user, photo_id=photo.pk, direction="right")
    assert services.swipes_reset(user=user) == 3
    profile = Profile.objects.get(user=user)
    assert (profile.city_scores, profile.swipe_count, profile.queue_position) == ({}, 0, 0)
    assert len(next_photos(user, 10)) == 3


def test_random_history_never_drifts_and_recompute_finds_injected_drift(published_photos):
    # given a long random mix of swipes, retries, conflicts and undos
    user = UserFactory()
    photos = published_photos(25, cities=("paris", "rome", "tokyo", "lisbon", "seoul"))
    rng = random.Random(3)
    for _ in range(120):
        action = rng.random()
        if action < 0.15:
            with contextlib.suppress(NotFoundError):
                services.swipe_undo_last(user=user)
        else:
            photo = rng.choice(photos)
            with contextlib.suppress(ConflictError):
                services.swipe_record(
                    user=user, photo_id=photo.pk, direction=rng.choice(["left", "right"])
                )
    profile = Profile.objects.get(user=user)
    # then the running scores equal the recompute from the history
    assert services.profile_recompute(profile_id=profile.pk, fix=False) is None
    _, count = selectors.scores_from_history(user_id=user.pk)
    assert count == profile.swipe_count == Swipe.objects.filter(user=user).count()

    # when the cache is corrupted, the recompute reports it and repairs it
    profile.city_scores["paris"] = profile.city_scores.get("paris", 0) + 0.5
    profile.swipe_count += 2
    profile.save()
    drift = services.profile_recompute(profile_id=profile.pk, fix=True)
    assert drift is not None
    assert drift.max_difference == pytest.approx(0.5)
    assert (drift.swipe_count_was, drift.swipe_count_is) == (count + 2, count)
    assert services.profile_recompute(profile_id=profile.pk, fix=False) is None


def test_guest_registration_keeps_the_profile_and_swipes(published_photos):
    guest, token = services.guest_create()
    (photo,) = published_photos(1)
    services.swipe_record(user=guest, photo_id=photo.pk, direction="right")

    user = services.user_register(
        current_user=guest, username="ada", password="a-long-test-password", email=""
    )

    assert user.pk == guest.pk
    assert user.check_password("a-long-test-password")
    profile = Profile.objects.get(user=user)
    assert not profile.is_guest and profile.swipe_count == 1
    assert services.token_for(user).key == token.key


def test_registration_errors(db):
    UserFactory(username="taken")
    with pytest.raises(ConflictError, match="taken"):
        services.user_register(current_user=None, username="TAKEN", password="a-long-password-1")
    with pytest.raises(ApplicationError, match="too short"):
        services.user_register(current_user=None, username="newbie", password="abc")
    registered = UserFactory()
    with pytest.raises(ConflictError, match="already registered"):
        services.user_register(
            current_user=registered, username="other", password="a-long-password-1"
        )
    assert not Profile.objects.filter(user__username__in=["newbie", "other"]).exists()


def test_a_guest_registered_twice_keeps_the_first_account(db):
    # given a guest object read before either registration (as two requests at once read it)
    guest, _ = services.guest_create()
    assert guest.profile.is_guest
    services.user_register(current_user=guest, username="ada", password="a-long-password-1")

    # when the same stale guest registers again, under another name
    with pytest.raises(ConflictError, match="already registered"):
        services.user_register(current_user=guest, username="grace", password="a-long-password-2")

    # then the first account is intact: its name and password still log in
    assert authenticate(username="ada", password="a-long-password-1").pk == guest.pk
    assert not User.objects.filter(username="grace").exists()


def test_equal_scores_rank_by_name_despite_float_noise(published_photos):
    user = UserFactory()
    kyoto, istanbul = published_photos(2, cities=("kyoto", "istanbul"))
    services.swipe_record(user=user, photo_id=kyoto.pk, direction="right")
    services.swipe_record(user=user, photo_id=istanbul.pk, direction="right")
    found = recommendations(user, 3)
    ranked, swipe_count = found.cities, found.swipe_count
    assert [city.slug for city in ranked[:2]] == ["istanbul", "kyoto"]
    assert [city.match for city in ranked] == [64, 64]  # the lean of 0.6: 50 + 49·tanh(0.3)
    assert swipe_count == 2  # and only the two cities with deck photos are ranked


def test_swiping_ahead_never_skips_the_photos_in_between(published_photos):
    user = UserFactory()
    photos = published_photos(6)
    services.swipe_record(user=user, photo_id=photos[0].pk, direction="right")
    services.swipe_record(user=user, photo_id=photos[5].pk, direction="right")  # ahead of the queue
    assert [p.pk for p in next_photos(user, 10)] == [p.pk for p in photos[1:5]]
    for photo in photos[1:5]:
        services.swipe_record(user=user, photo_id=photo.pk, direction="left")
    # the front jumped over the photo swiped ahead, to the end of the queue
    assert Profile.objects.get(user=user).queue_position == photos[5].queue_position + 1
    services.swipe_undo_last(user=user)
    assert Profile.objects.get(user=user).queue_position == photos[4].queue_position
    assert next_photos(user, 10)[0].pk == photos[4].pk


def test_undoing_everything_leaves_exact_zeros(published_photos):
    user = UserFactory()
    first, second = published_photos(2, cities=("paris", "barcelona"))
    services.swipe_record(user=user, photo_id=first.pk, direction="right")
    services.swipe_record(user=user, photo_id=second.pk, direction="right")
    services.swipe_undo_last(user=user)
    services.swipe_undo_last(user=user)
    assert Profile.objects.get(user=user).city_scores == {}
    ranked = recommendations(user, 266).cities
    assert {city.slug for city in ranked} == {"paris", "barcelona"}
    assert {city.match for city in ranked} == {50}
    assert {city.confidence for city in ranked} == {"early guess"}


def test_retry_after_the_photo_left_the_deck_still_succeeds(published_photos):
    user = UserFactory()
    (photo,) = published_photos(1)
    services.swipe_record(user=user, photo_id=photo.pk, direction="right")
    photo_services.photo_reject(photo_id=photo.pk, reason="curated out")
    retry = services.swipe_record(user=user, photo_id=photo.pk, direction="right")
    assert not retry.created
