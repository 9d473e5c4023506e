import math

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from photos.models import City
from tests.openapi import SchemaCheckingAPIClient
from users.models import Profile, Swipe

pytestmark = pytest.mark.django_db

SWIPES = "/api/v1/swipes/"


def test_guest_gets_a_token_and_a_profile(api_client):
    response = api_client.post("/api/v1/auth/guest/")
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["is_guest"] is True and len(body["token"]) == 40
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api_client.get("/api/v1/me/").json()["swipe_count"] == 0


def test_swipe_flow_over_http(guest_client, published_photos):
    photos = published_photos(6)
    deck = guest_client.get("/api/v1/photos/next/?limit=3").json()["results"]
    assert [p["id"] for p in deck] == [p.pk for p in photos[:3]]
    # an absolute URL of the copy this site re-encoded, never the photo's remote source
    assert deck[0]["image_url"].startswith("http://testserver/media/photos/normalized/")
    assert deck[0]["image_url"].endswith(".jpg")

    first = guest_client.post(SWIPES, {"photo": deck[0]["id"], "direction": "right"}, format="json")
    assert first.status_code == 201 and first.json()["created"] is True
    retry = guest_client.post(SWIPES, {"photo": deck[0]["id"], "direction": "right"}, format="json")
    assert retry.status_code == 200 and retry.json()["created"] is False
    assert retry.json()["id"] == first.json()["id"] and retry.json()["swipe_count"] == 1

    ranked = guest_client.get("/api/v1/recommendations/?limit=3").json()
    assert ranked["swipe_count"] == 1
    assert ranked["results"][0]["slug"] == "paris"
    # the baseline's lean of one like (0.6 of Paris): 50 + 49·tanh(0.6 / 2), never 100
    assert ranked["match_kind"] == "lean" and ranked["base_chance"] is None
    assert ranked["results"][0]["match"] == round(50 + 49 * math.tanh(0.3)) == 64
    assert ranked["results"][0]["chance"] is None
    assert [r["rank"] for r in ranked["results"]] == [1, 2, 3]

    history = guest_client.get(SWIPES).json()
    assert history["count"] == 1 and history["results"][0]["direction"] == "right"

    undone = guest_client.post("/api/v1/swipes/undo/")
    assert undone.status_code == 200 and undone.json()["photo"] == deck[0]["id"]
    assert (
        guest_client.get("/api/v1/photos/next/?limit=1").json()["results"][0]["id"] == deck[0]["id"]
    )
    assert guest_client.post("/api/v1/swipes/undo/").status_code == 404

    guest_client.post(SWIPES, {"photo": deck[1]["id"], "direction": "left"}, format="json")
    assert guest_client.post("/api/v1/swipes/reset/").json() == {"deleted": 1}
    assert Profile.objects.get(user=guest_client.user).city_scores == {}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ({"photo": 999999, "direction": "right"}, "json", 404, "does not exist"),
        ({"photo": "PHOTO", "direction": "right"}, "json", 400, "photo: A valid integer"),
        ({"direction": "right"}, "json", 400, "photo: This field is required"),
        ({"photo": 1}, "json", 400, "direction: This field is required"),
        ({"photo": 1, "direction": "up"}, "json", 400, "direction"),
        ({"photo": 10**30, "direction": "left"}, "json", 400, "photo: Ensure this value"),
        ({"photo": None, "direction": "left"}, "json", 400, "photo: This field may not be null"),
        ({"photo": 1, "direction": "le\u0000ft"}, "json", 400, "direction"),
        ('{"photo": 1,', "raw", 400, "JSON parse error"),
        ("[1, 2]", "raw", 400, "Invalid data"),
        ("photo=1&direction=left", "form", 415, "Unsupported media type"),
    ],
)
def test_malformed_swipes_get_json_errors(
    guest_client, published_photos, body, content_type, status, message
):
    published_photos(1)
    if content_type == "json":
        response = guest_client.post(SWIPES, body, format="json")
    elif content_type == "raw":
        response = guest_client.post(SWIPES, body, content_type="application/json")
    else:
        response = guest_client.post(SWIPES, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == status
    meta = response.json()["meta"]
    assert meta["type"] == "error" and meta["code"] == status
    assert message in meta["message"]
    assert not Swipe.objects.exists()


def test_swiping_a_photo_the_other_way_is_409(guest_client, published_photos):
    (photo,) = published_photos(1)
    guest_client.post(SWIPES, {"photo": photo.pk, "direction": "right"}, format="json")
    response = guest_client.post(SWIPES, {"photo": photo.pk, "direction": "left"}, format="json")
    assert response.status_code == 409
    assert "Undo that swipe first" in response.json()["meta"]["message"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/me/"),
        ("get", "/api/v1/photos/next/"),
        ("get", SWIPES),
        ("post", SWIPES),
        ("post", "/api/v1/swipes/undo/"),
        ("post", "/api/v1/swipes/reset/"),
        ("get", "/api/v1/recommendations/"),
        ("post", "/api/v1/auth/logout/"),
    ],
)
def test_missing_or_bad_credentials_are_401(api_client, method, url):
    response = getattr(api_client, method)(url)
    assert response.status_code == 401
    assert response.json()["meta"]["message"] == "Authentication credentials were not provided."
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = getattr(api_client, method)(url)
    assert response.status_code == 401
    assert response.json()["meta"]["message"] == "Invalid token."


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "limit=51", "limit=-3"])
def test_bad_limits_are_400(guest_client, query):
    response = guest_client.get(f"/api/v1/photos/next/?{query}")
    assert response.status_code == 400
    assert response.json()["meta"]["message"].startswith("limit:")


def test_register_login_logout(api_client, published_photos):
    guest = api_client.post("/api/v1/auth/guest/").json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {guest['token']}")
    (photo,) = published_photos(1)
    api_client.post(SWIPES, {"photo": photo.pk, "direction": "right"}, format="json")

    registered = api_client.post(
        "/api/v1/auth/register/",
        {"username": "grace", "password": "a-long-test-password", "email": "g@example.com"},
        format="json",
    )
    assert registered.status_code == 201
    assert registered.json()["user"] == {
        "id": guest["user"]["id"],
        "username": "grace",
        "is_guest": False,
        "swipe_count": 1,
        "queue_position": photo.queue_position + 1,
    }

    assert api_client.post("/api/v1/auth/logout/").status_code == 204
    assert api_client.get("/api/v1/me/").status_code == 401  # the token was revoked

    fresh = APIClient()
    wrong = fresh.post(
        "/api/v1/auth/login/", {"username": "grace", "password": "nope"}, format="json"
    )
    assert (
        wrong.status_code == 400
        and wrong.json()["meta"]["message"] == "Wrong username or password."
    )
    login = api_client.post(
        "/api/v1/auth/login/",
        {"username": "grace", "password": "a-long-test-password"},
        format="json",
    )
    assert login.status_code == 200 and login.json()["user"]["swipe_count"] == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"username": "x y", "password": "a-long-test-password"}, 400, "username"),
        ({"username": "bob", "password": "123"}, 400, "password"),
        ({"username": "bob"}, 400, "password"),
        ({"username": "bob", "password": "a-long-\u0000-password"}, 400, "password"),
        ({"username": "bob", "password": "a-long-test-password", "email": "no"}, 400, "email"),
    ],
)
def test_register_validation(api_client, db, body, status, field):
    response = api_client.post("/api/v1/auth/register/", body, format="json")
    assert response.status_code == status
    assert field in response.json()["meta"]["details"]


def test_session_writes_need_csrf(db, published_photos):
    (photo,) = published_photos(1)
    browser = SchemaCheckingAPIClient(enforce_csrf_checks=True)
    assert browser.post("/api/v1/auth/guest/").status_code == 201  # now a session exists
    response = browser.post(SWIPES, {"photo": photo.pk, "direction": "right"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["meta"]["message"]
    csrf = browser.cookies["csrftoken"].value if "csrftoken" in browser.cookies else None
    if csrf is None:
        browser.get(reverse("home"))
        csrf = browser.cookies["csrftoken"].value
    ok = browser.post(
        SWIPES, {"photo": photo.pk, "direction": "right"}, format="json", HTTP_X_CSRFTOKEN=csrf
    )
    assert ok.status_code == 201


def test_list_endpoints_have_constant_query_counts(
    guest_client, published_photos, django_assert_max_num_queries
):
    photos = published_photos(30)
    for photo in photos[:20]:
        guest_client.post(SWIPES, {"photo": photo.pk, "direction": "right"}, format="json")
    with django_assert_max_num_queries(4):
        assert len(guest_client.get("/api/v1/photos/next/?limit=50").json()["results"]) == 10
    # token, catalog size (the limit), profile, city names, deck arrays (cached outside the
    # tests), swipes, typical photos; for the vibe the swipes, their photos' attributes and the
    # cities' attributes (cached outside the tests): whatever the number of swipes or cities
    with django_assert_max_num_queries(10):
        guest_client.get("/api/v1/recommendations/?limit=266")
    with django_assert_max_num_queries(5):
        assert len(guest_client.get(SWIPES).json()["results"]) == 20


def test_unknown_api_path_is_json_404(client, db):
    response = client.get("/api/v1/nope/")
    assert response.status_code == 404
    assert response.json()["meta"]["message"].startswith("No API endpoint")


def test_login_with_nul_characters_is_400(api_client, db):
    response = api_client.post(
        "/api/v1/auth/login/", {"username": "a\u0000b", "password": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "Null characters are not allowed" in response.json()["meta"]["message"]


def test_recommendations_explain_top_cities_with_the_likes_that_raised_them(
    guest_client, published_photos
):
    paris_a, rome, paris_b, tokyo = published_photos(4, cities=("paris", "rome", "paris", "tokyo"))
    for photo, direction in [(paris_a, "right"), (rome, "left"), (paris_b, "right")]:
        guest_client.post(
            "/api/v1/swipes/", {"photo": photo.pk, "direction": direction}, format="json"
        )
    guest_client.post("/api/v1/swipes/", {"photo": tokyo.pk, "direction": "right"}, format="json")

    body = guest_client.get("/api/v1/recommendations/?limit=3&reasons=1").json()

    top = body["results"][0]
    assert top["slug"] == "paris" and top["match"] == round(50 + 49 * math.tanh(1.2 / 2))
    assert [reason["photo"] for reason in top["reasons"]] == [paris_b.pk]  # newest of equals
    assert top["reasons"][0]["city"] == {"slug": "paris", "name": "Paris"}
    assert top["reasons"][0]["contribution"] == pytest.approx(0.6)
    tokyo_row = next(row for row in body["results"] if row["slug"] == "tokyo")
    assert [reason["photo"] for reason in tokyo_row["reasons"]] == [tokyo.pk]
    # A like spread thinly over every city (the label prior's 0.4 / 265) explains none of them,
    # and disliked cities get no reasons.
    everyone = guest_client.get("/api/v1/recommendations/?limit=266&reasons=3").json()["results"]
    assert {row["slug"] for row in everyone if row["reasons"]} == {"paris", "tokyo"}
    assert guest_client.get("/api/v1/recommendations/").json()["results"][0]["reasons"] == []
    assert guest_client.get("/api/v1/recommendations/?reasons=11").status_code == 400


def test_next_photos_reports_the_deck_size(guest_client, label_prior):
    assert guest_client.get("/api/v1/photos/next/").json() == {"results": [], "deck_size": 0}


def test_city_limits_follow_the_catalog_size_at_request_time(guest_client, published_photos):
    in_deck = {photo.city.slug for photo in published_photos(3)}
    cities = City.objects.count()
    body = guest_client.get(f"/api/v1/recommendations/?limit={cities}").json()
    # only the cities with deck photos are ranked; any limit up to the catalog size is fine
    assert body["city_count"] == len(in_deck) == len(body["results"])
    assert {row["slug"] for row in body["results"]} == in_deck
    too_many = guest_client.get(f"/api/v1/recommendations/?limit={cities + 1}")
    assert too_many.status_code == 400
    assert too_many.json()["meta"]["message"] == (
        f"limit: Ensure this value is less than or equal to {cities}, the number of cities in "
        "the catalog."
    )
    assert guest_client.get(f"/api/v1/cities/paris/similar/?limit={cities + 1}").status_code == 400
    # a new city raises both maximums at once, with no setting to change
    City.objects.create(slug="atlantis", name="Atlantis")
    body = guest_client.get(f"/api/v1/recommendations/?limit={cities + 1}&not_in_deck=list")
    assert body.status_code == 200 and body.json()["city_count"] == len(in_deck)
    assert len(body.json()["not_in_deck"]) == cities + 1 - len(in_deck)
    assert {"slug": "atlantis", "name": "Atlantis"} in body.json()["not_in_deck"]
    assert guest_client.get(f"/api/v1/cities/paris/similar/?limit={cities + 1}").status_code == 200


def test_a_catalog_smaller_than_the_default_limit_gives_all_its_cities(guest_client):
    City.objects.exclude(slug__in=("paris", "rome", "tokyo")).delete()
    body = guest_client.get("/api/v1/recommendations/?not_in_deck=list").json()
    assert body["city_count"] == 0 and body["results"] == []  # no deck photos: nothing ranked
    assert [city["slug"] for city in body["not_in_deck"]] == ["paris", "rome", "tokyo"]
    assert guest_client.get("/api/v1/recommendations/?limit=3").status_code == 200
    assert "not_in_deck" not in guest_client.get("/api/v1/recommendations/").json()
    assert guest_client.get("/api/v1/recommendations/?limit=4").status_code == 400
    assert guest_client.get("/api/v1/cities/paris/similar/").status_code == 200
