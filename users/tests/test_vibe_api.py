""" "Your vibe" and the cities' dominant attributes over HTTP, from real rows: deck photos with
attribute-model outputs, swipes recorded by users.services."""

import pytest

from tests.factories import attribute_predictions, published_photo
from users import services

pytestmark = pytest.mark.django_db

CITIES = ("paris", "rome", "tokyo", "lisbon")
WATERFRONT = {"waterfront": 0.92, "fog": 0.08, "night": 0.1}
FOGGY = {"waterfront": 0.07, "fog": 0.9, "night": 0.12}


def scene(i):
    """Photo i: waterfront, fog and night each shown or not, independently over i."""
    shown = {"waterfront": i % 2, "fog": i // 2 % 2, "night": i // 4 % 2}
    return {label: 0.88 * value + 0.05 + 0.01 * (i % 3) for label, value in shown.items()}


def deck(count, scores_of):
    photos = [published_photo(city_slug=CITIES[i % len(CITIES)]) for i in range(count)]
    attribute_predictions({photo.pk: scores_of(i, photo) for i, photo in enumerate(photos)})
    return photos


def ranking(client):
    response = client.get("/api/v1/recommendations/?limit=10")
    assert response.status_code == 200, response.content
    return response.json()


def test_likes_of_waterfront_photos_and_nopes_of_foggy_ones_make_the_vibe(
    guest_client, label_prior
):
    photos = deck(40, lambda i, _: scene(i))
    for i, photo in enumerate(photos):
        direction = "right" if i % 2 and not i // 2 % 2 else "left"  # waterfront, no fog
        services.swipe_record(user=guest_client.user, photo_id=photo.pk, direction=direction)
    found = ranking(guest_client)["vibe"]
    to = [lean["attribute"] for lean in found["leans_to"]]
    away = [lean["attribute"] for lean in found["leans_away_from"]]
    assert "waterfront" in to and "fog" in away and "night" not in to + away
    assert found["swipes_used"] == 40 and found["reason"] == ""
    assert found["summary"].startswith(", ".join(to) + "; not ")
    for lean in found["leans_to"] + found["leans_away_from"]:
        assert 0.9 <= lean["probability"] <= 1
    assert all(lean["effect"] > 0 for lean in found["leans_to"])
    assert all(lean["effect"] < 0 for lean in found["leans_away_from"])
    assert found["sureness"] in ("very sure", "fairly sure", "a first guess")


def test_each_city_shows_its_dominant_attributes(guest_client, label_prior):
    photos = deck(8, lambda i, photo: WATERFRONT if photo.city.slug == "lisbon" else FOGGY)
    services.swipe_record(user=guest_client.user, photo_id=photos[0].pk, direction="right")
    body = ranking(guest_client)
    attributes = {row["slug"]: row["attributes"] for row in body["results"]}
    assert attributes["lisbon"] == ["waterfront"]
    assert attributes["paris"] == ["fog"]
    outlook = guest_client.get("/api/v1/recommendations/lisbon/")
    assert outlook.status_code == 200 and outlook.json()["attributes"] == ["waterfront"]
    assert outlook.json()["ranking"]["attributes"] == ["waterfront"]


def test_few_swipes_give_an_empty_vibe_that_says_why(guest_client, label_prior):
    photos = deck(4, lambda i, _: WATERFRONT)
    for photo in photos:
        services.swipe_record(user=guest_client.user, photo_id=photo.pk, direction="right")
    found = ranking(guest_client)["vibe"]
    assert found["reason"] == "Swipe a few more photos."
    assert found["leans_to"] == found["leans_away_from"] == [] and found["summary"] == ""
    assert found["swipes_used"] == 4


def test_without_an_attribute_model_the_vibe_says_so_and_cities_have_no_attributes(
    guest_client, published_photos
):
    for photo in published_photos(12, cities=CITIES):
        services.swipe_record(user=guest_client.user, photo_id=photo.pk, direction="left")
    body = ranking(guest_client)
    assert body["vibe"]["reason"] == "No attribute model has described the photos yet."
    assert all(row["attributes"] == [] for row in body["results"])
