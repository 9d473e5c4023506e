"""Undo over the API: the server keeps the history, so the undone swipe comes back with the
photo the deck needs to show it on top again, whatever session or token asks."""

import pytest

from photos.services import photo_reject
from tests.openapi import SchemaCheckingAPIClient
from users.models import Profile, Swipe

pytestmark = pytest.mark.django_db

SWIPES = "/api/v1/swipes/"
UNDO = "/api/v1/swipes/undo/"
NEXT = "/api/v1/photos/next/"


def _swipe(client, photo_id: int, direction: str = "right") -> None:
    response = client.post(SWIPES, {"photo": photo_id, "direction": direction}, format="json")
    assert response.status_code == 201, response.content


def test_undo_returns_the_swipe_with_the_card_the_deck_served(guest_client, published_photos):
    # given: three cards as the deck serves them, all swiped
    published_photos(3)
    cards = guest_client.get(f"{NEXT}?limit=3").json()["results"]
    for card, direction in zip(cards, ["right", "left", "right"], strict=True):
        _swipe(guest_client, card["id"], direction)

    # when: undoing twice
    first = guest_client.post(UNDO)
    second = guest_client.post(UNDO)

    # then: newest first, each with its photo exactly as GET /photos/next/ served it
    assert first.status_code == 200 and second.status_code == 200
    assert first.json()["photo"] == cards[2]["id"] and first.json()["direction"] == "right"
    assert first.json()["photo_detail"] == cards[2]
    assert first.json()["swipe_count"] == 2
    assert second.json()["photo_detail"] == cards[1] and second.json()["direction"] == "left"
    assert second.json()["swipe_count"] == 1
    assert first.json()["photo_detail"]["image_url"].startswith("http://testserver/media/")
    left = Swipe.objects.filter(user=guest_client.user).values_list("photo_id", flat=True)
    assert list(left) == [cards[0]["id"]]
    # and the undone photos are the next ones again
    assert [p["id"] for p in guest_client.get(f"{NEXT}?limit=2").json()["results"]] == [
        cards[1]["id"],
        cards[2]["id"],
    ]


def test_undo_works_from_a_new_session_and_a_new_token(api_client, published_photos):
    # given: an account that swiped with one token, then logged out (the token is revoked)
    published_photos(2)
    registered = api_client.post(
        "/api/v1/auth/register/",
        {"username": "undoer", "password": "a-long-enough-password-1"},
        format="json",
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {registered.json()['token']}")
    cards = api_client.get(f"{NEXT}?limit=2").json()["results"]
    _swipe(api_client, cards[0]["id"], "left")
    _swipe(api_client, cards[1]["id"], "right")
    assert api_client.post("/api/v1/auth/logout/").status_code == 204

    # when: logging in again from a fresh client (new token) and undoing
    fresh = SchemaCheckingAPIClient()
    login = fresh.post(
        "/api/v1/auth/login/",
        {"username": "undoer", "password": "a-long-enough-password-1"},
        format="json",
    )
    assert login.json()["token"] != registered.json()["token"]
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    undone = fresh.post(UNDO)

    # then: the swipe made under the old token is undone, with its photo
    assert undone.status_code == 200
    assert undone.json()["photo_detail"] == cards[1]
    assert undone.json()["swipe_count"] == 1
    assert Profile.objects.get(user__username="undoer").swipe_count == 1

    # and a browser session (cookie, no token) undoes the next one
    browser = SchemaCheckingAPIClient()
    browser.force_login(Profile.objects.get(user__username="undoer").user)
    assert browser.post(UNDO).json()["photo_detail"] == cards[0]


def test_undo_with_nothing_to_undo_is_a_404_json_error(guest_client, published_photos):
    # given: a guest who swiped once and undid it
    published_photos(1)
    card = guest_client.get(f"{NEXT}?limit=1").json()["results"][0]
    _swipe(guest_client, card["id"])
    assert guest_client.post(UNDO).status_code == 200

    # when: undoing again
    response = guest_client.post(UNDO)

    # then: a clear JSON error, and nothing changed
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    meta = response.json()["meta"]
    assert meta["type"] == "error" and meta["code"] == 404
    assert meta["message"] == "There is no swipe to undo."
    assert Profile.objects.get(user=guest_client.user).swipe_count == 0


def test_undo_of_a_photo_that_left_the_deck_returns_no_card(guest_client, published_photos):
    # given: a swiped photo that an admin rejected afterwards
    published_photos(2)
    card = guest_client.get(f"{NEXT}?limit=1").json()["results"][0]
    _swipe(guest_client, card["id"])
    photo_reject(photo_id=card["id"], reason="not a city")

    # when
    response = guest_client.post(UNDO)

    # then: the swipe is undone, but its card does not come back (swiping it would be refused)
    assert response.status_code == 200
    assert response.json()["photo"] == card["id"] and response.json()["photo_detail"] is None
    assert response.json()["swipe_count"] == 0


def test_the_deck_endpoint_keeps_its_response_and_the_undo_schema_names_the_card():
    from tests.openapi import openapi_document

    document = openapi_document()
    components = document["components"]["schemas"]
    assert set(components["PhotoOutput"]["properties"]) == {
        "id",
        "image_url",
        "city",
        "queue_position",
        "is_synthetic",
    }
    undo = document["paths"][UNDO]["post"]["responses"]["200"]["content"]["application/json"]
    undone = components[undo["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert {"id", "photo", "direction", "swipe_count", "photo_detail"} <= set(undone["required"])
    assert undone["properties"]["photo_detail"]["allOf"][0]["$ref"].endswith("/PhotoOutput")
    assert undone["properties"]["photo_detail"]["nullable"] is True
