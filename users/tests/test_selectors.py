"""Selectors only read: a stale RankerState stays as it is until the service catches it up,
and a user without a profile gets none created by reading."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from users import selectors, services
from users.models import Profile, RankerState

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_ranker(settings):
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": "bayesian-active"}


def _swipe(user, photo, direction):
    services.swipe_record(user=user, photo_id=photo.pk, direction=direction)


def _state(profile) -> dict:
    return RankerState.objects.values().get(profile=profile)


def test_reads_leave_a_stale_ranker_state_unchanged_and_the_service_catches_it_up(
    published_photos, active_ranker
):
    # given a person whose stored statistics are two swipes behind
    user = UserFactory()
    photos = published_photos(10)
    for photo in photos[:2]:
        _swipe(user, photo, "right")
    services.ranker_state_catch_up(profile=Profile.objects.get(user=user))
    for photo in photos[2:4]:
        _swipe(user, photo, "left")
    before = _state(Profile.objects.get(user=user))
    # when every read that ranks runs without the service
    profile = selectors.profile_get(user=user)
    slugs = selectors.catalog().slugs
    with CaptureQueriesContext(connection) as queries:
        read = selectors.ranker_statistics(profile=profile, slugs=slugs)
        selectors.photos_next(profile=profile, limit=3)
        found = selectors.recommendations(profile=profile, limit=5)
        selectors.liked_photo_reasons(user=user, slugs=["paris", "rome"], per_city=2)
        selectors.similar_cities(slug="paris", limit=3)
    # then they only read (PostgreSQL's server-side cursors DECLARE, FETCH and CLOSE a SELECT)
    # and the stored state is as it was
    writes = ("INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP", "TRUNCATE")
    statements = [q["sql"].lstrip().upper() for q in queries]
    assert [sql for sql in statements if sql.startswith(writes)] == []
    assert [sql for sql in statements if "FOR UPDATE" in sql or "FOR SHARE" in sql] == []
    assert _state(profile) == before and before["swipe_count"] == 2
    # yet they ranked from the statistics as they are now
    history = selectors.swipe_statistics_from_history(user_id=user.pk, slugs=slugs)
    np.testing.assert_allclose(read.statistics.moment, history.moment, atol=1e-12)
    assert not read.is_stored and read.swipe_count == 4 and found.swipe_count == 4
    # and the service stores exactly that
    caught_up = services.ranker_state_catch_up(profile=profile)
    state = RankerState.objects.get(profile=profile)
    assert state.swipe_count == 4
    assert state.last_swipe_id == user.swipes.order_by("-id").first().pk
    assert bytes(state.statistics) == caught_up.statistics.to_bytes()
    assert selectors.ranker_statistics(profile=profile, slugs=slugs).is_stored


def test_ranking_with_the_caught_up_statistics_equals_ranking_with_a_fresh_read(
    published_photos, active_ranker
):
    user = UserFactory()
    photos = published_photos(12)
    for photo, direction in zip(photos[:5], ["right", "left"] * 3, strict=False):
        _swipe(user, photo, direction)
    profile = selectors.profile_get(user=user)
    statistics = services.ranker_state_catch_up(profile=profile)
    assert selectors.recommendations(profile=profile, limit=266, statistics=statistics) == (
        selectors.recommendations(profile=profile, limit=266)
    )
    assert [p.pk for p in selectors.photos_next(profile=profile, limit=4)] == [
        p.pk for p in selectors.photos_next(profile=profile, limit=4, statistics=statistics)
    ]


def test_the_ranking_endpoints_catch_the_state_up_and_the_baseline_keeps_none(
    guest_client, published_photos, settings
):
    photos = published_photos(12)
    for photo in photos[:3]:
        _swipe(guest_client.user, photo, "right")
    profile = Profile.objects.get(user=guest_client.user)
    assert guest_client.get("/api/v1/recommendations/").status_code == 200
    assert guest_client.get("/api/v1/photos/next/").status_code == 200
    assert not RankerState.objects.filter(profile=profile).exists()  # baseline (test settings)
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": "bayesian"}
    guest_client.get("/api/v1/photos/next/")  # the fixed queue needs no statistics
    assert not RankerState.objects.filter(profile=profile).exists()
    guest_client.get("/api/v1/recommendations/")
    assert _state(profile)["swipe_count"] == 3
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": "bayesian-active"}
    _swipe(guest_client.user, photos[3], "left")
    guest_client.get("/api/v1/photos/next/")
    assert _state(profile)["swipe_count"] == 4


def test_reading_a_user_without_a_profile_creates_none(api_client, django_user_model):
    # a user made in the admin has no profile until their first write
    user = django_user_model.objects.create_user(username="made-in-admin", password="x")
    profile = selectors.profile_get(user=user)
    assert profile.pk is None and profile.swipe_count == 0 and not profile.is_guest
    api_client.force_authenticate(user)
    assert api_client.get("/api/v1/me/").json()["swipe_count"] == 0
    assert api_client.get("/api/v1/recommendations/").status_code == 200
    assert not Profile.objects.filter(user=user).exists()
