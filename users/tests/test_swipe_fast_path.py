"""The swipe's fast path (issue 19): fewer statements, queries compiled once, the token read
with its user in one query, the response built without a serializer, rate limits counted in one
Redis round trip. Each keeps the answers of the slower path it replaced."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import ratelimit
from core.auth import PreparedQuery
from tests.factories import UserFactory
from users import services
from users.apis.swipes import SwipeOutputSerializer, swipe_body
from users.models import Swipe
from users.selectors.history import swipe_target

pytestmark = pytest.mark.django_db
SWIPES = "/api/v1/swipes/"


def test_a_new_swipe_runs_the_token_query_and_six_statements_at_most(
    guest_client, published_photos
):
    # given a guest with one swipe behind them (the profile exists) and photos left
    first, second, _ = published_photos(3)
    guest_client.post(SWIPES, {"photo": first.pk, "direction": "right"}, format="json")
    # when they swipe the next photo
    with CaptureQueriesContext(connection) as queries:
        response = guest_client.post(
            SWIPES, {"photo": second.pk, "direction": "left"}, format="json"
        )
    # then: the token with its user, BEGIN, the lock, the photo with the earlier swipe, the
    # insert, the update, COMMIT (in a test: a savepoint); the queue's front moved past both
    # swiped photos: one read more
    assert response.status_code == 201
    statements = [query["sql"].split()[0] for query in queries]
    assert statements.count("SELECT") <= 4
    assert statements.count("INSERT") == 1 and statements.count("UPDATE") == 1
    assert len(statements) <= 8


def test_the_response_body_is_the_serializers(guest_client, published_photos):
    (photo,) = published_photos(1)
    created = guest_client.post(SWIPES, {"photo": photo.pk, "direction": "right"}, format="json")
    again = guest_client.post(SWIPES, {"photo": photo.pk, "direction": "right"}, format="json")
    swipe = Swipe.objects.get(photo=photo)
    expected = dict(SwipeOutputSerializer(swipe).data)
    for response in (created, again):
        body = response.json()
        assert {key: body[key] for key in expected} == expected
    assert swipe_body(swipe) == expected


def test_the_swipe_target_reads_what_the_orm_reads(published_photos):
    # given a person who swiped one of two photos
    user = UserFactory()
    swiped, fresh = published_photos(2)
    services.swipe_record(user=user, photo_id=swiped.pk, direction="left")
    stored = Swipe.objects.get(user=user)
    # then the compiled-once read gives the same swipe and the photo's array and classes
    target = swipe_target(user_id=user.pk, photo_id=swiped.pk)
    assert (target.earlier.pk, target.earlier.direction) == (stored.pk, "left")
    assert target.earlier.created_at == stored.created_at
    assert target.in_deck and target.queue_position == swiped.queue_position
    assert target.array == swiped.probability_by_slug()
    # and for a photo they did not swipe, no earlier swipe; for no photo, nothing
    assert swipe_target(user_id=user.pk, photo_id=fresh.pk).earlier is None
    assert swipe_target(user_id=user.pk, photo_id=fresh.pk + 1000) is None


def test_a_prepared_query_is_built_once_and_runs_with_each_calls_values():
    users = UserFactory.create_batch(2)
    built = []

    def names_of(user_id):
        built.append(user_id)
        return get_user_model().objects.filter(pk=user_id).values_list("username", "is_active")

    query = PreparedQuery(names_of)
    assert query.first(user_id=users[0].pk) == (users[0].username, True)
    assert query.first(user_id=users[1].pk) == (users[1].username, True)
    assert query.first(user_id=-1) is None
    assert len(built) == 1


def test_a_prepared_query_refuses_an_argument_that_is_not_one_parameter(db):
    # an argument used twice: each of its places must be one parameter of its own
    users = get_user_model().objects
    query = PreparedQuery(lambda n: users.filter(pk__gte=n).filter(pk__lte=n).values_list("pk"))
    with pytest.raises(ValueError, match="must be one parameter"):
        query.rows(n=0)


def test_an_unknown_token_or_an_inactive_user_is_a_401(api_client, published_photos):
    (photo,) = published_photos(1)
    user, token = services.guest_create()
    body = {"photo": photo.pk, "direction": "right"}
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = api_client.post(SWIPES, body, format="json")
    assert response.status_code == 401
    assert response.json()["meta"]["message"] == "Invalid token."
    user.is_active = False
    user.save(update_fields=["is_active"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.post(SWIPES, body, format="json")
    assert response.status_code == 401
    assert response.json()["meta"]["message"] == "User inactive or deleted."


def test_the_token_authenticates_its_own_user(api_client, published_photos):
    (photo,) = published_photos(1)
    services.guest_create()  # a first guest, whose token is not sent
    second, second_token = services.guest_create()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {second_token.key}")
    api_client.post(SWIPES, {"photo": photo.pk, "direction": "right"}, format="json")
    assert list(Swipe.objects.values_list("user_id", flat=True)) == [second.pk]


@pytest.fixture
def redis_cache(settings):
    """The rate limits counted in a real Redis (database 12), as in production; skipped when no
    Redis answers on localhost."""
    redis = pytest.importorskip("redis")
    location = "redis://127.0.0.1:6379/12"
    try:
        redis.Redis.from_url(location, socket_connect_timeout=0.5).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}
    }
    yield
    redis.Redis.from_url(location).flushdb()


def test_on_redis_a_window_holds_the_rate_and_says_how_long_to_wait(redis_cache, settings, rf):
    settings.API_THROTTLE_RATES = dict.fromkeys(settings.API_THROTTLE_RATES) | {"guest_ip": "3/min"}
    request = rf.post("/start/")
    assert [ratelimit.hit(request, "guest", "ip") for _ in range(3)] == [None, None, None]
    wait = ratelimit.hit(request, "guest", "ip")
    assert 55 <= wait <= 60
    other = rf.post("/start/", REMOTE_ADDR="10.0.0.9")
    assert ratelimit.hit(other, "guest", "ip") is None
