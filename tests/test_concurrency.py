"""Concurrent swipes against the real PostgreSQL: no lost updates, no double counts."""

import contextlib
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.errors import NotFoundError
from users import selectors, services
from users.models import Profile, Swipe

# serialized_rollback: the flush after a transactional test would drop the migrated city catalog.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _post_swipe(token: str, photo_id: int, direction: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    try:
        response = client.post(
            "/api/v1/swipes/", {"photo": photo_id, "direction": direction}, format="json"
        )
        return response.status_code
    finally:
        connection.close()  # each thread has its own connection


def test_200_concurrent_swipes_from_10_users_match_the_recompute(postgres_only, published_photos):
    # given 10 guests and 20 photos each of them will swipe, all at once
    photos = published_photos(20, cities=("paris", "rome", "tokyo", "lisbon", "seoul", "oslo"))
    guests = [services.guest_create() for _ in range(10)]
    rng = random.Random(11)
    plan = []
    for _, token in guests:
        for photo in photos:
            plan.append((token.key, photo.pk, rng.choice(["left", "right"])))
    retries = rng.sample(plan, 40)  # client retries: identical requests sent again concurrently
    requests = plan + retries
    rng.shuffle(requests)

    # when 16 threads send them concurrently
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda args: _post_swipe(*args), requests))

    # then every swipe counted exactly once and every total equals the recompute
    assert statuses.count(201) == 200
    assert statuses.count(200) == 40
    assert Swipe.objects.count() == 200
    for user, _ in guests:
        profile = Profile.objects.get(user=user)
        expected, count = selectors.scores_from_history(user_id=user.pk)
        assert profile.swipe_count == count == 20
        assert profile.city_scores.keys() == expected.keys()
        for slug, value in expected.items():
            assert profile.city_scores[slug] == pytest.approx(value, abs=1e-9)
        assert services.profile_recompute(profile_id=profile.pk, fix=False) is None


def test_racing_undo_and_swipes_of_one_user_stay_consistent(postgres_only, published_photos):
    photos = published_photos(30)
    user, _ = services.guest_create()

    def act(index: int) -> None:
        try:
            if index % 3 == 2:
                with contextlib.suppress(NotFoundError):  # nothing to undo yet is fine here
                    services.swipe_undo_last(user=user)
            else:
                services.swipe_record(user=user, photo_id=photos[index % 30].pk, direction="right")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(act, range(90)))

    profile = Profile.objects.get(user=user)
    assert profile.swipe_count == Swipe.objects.filter(user=user).count()
    assert services.profile_recompute(profile_id=profile.pk, fix=False) is None
