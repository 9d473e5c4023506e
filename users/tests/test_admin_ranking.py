"""A profile's top cities in the admin are the ranking the person sees (GET
/api/v1/recommendations/), whatever their ranker."""

import re

import pytest

from tests.factories import UserFactory
from users import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("ranker", ["baseline", "bayesian"])
def test_the_admin_shows_the_top_cities_the_person_sees(
    ranker, settings, client, guest_client, published_photos
):
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": ranker}
    photos = published_photos(12, cities=("paris", "rome", "tokyo", "oslo", "lisbon", "kyoto"))
    for photo, direction in zip(photos, "RRLRLLRLRRLL", strict=True):
        services.swipe_record(
            user=guest_client.user,
            photo_id=photo.pk,
            direction="right" if direction == "R" else "left",
        )
    seen = guest_client.get("/api/v1/recommendations/?limit=5").json()["results"]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(
        f"/admin/users/profile/{guest_client.user.profile.pk}/change/"
    ).content.decode()
    field = re.search(
        r"top cities \(as the person sees them\):</label>(.*?)</div>", page, re.S | re.I
    )
    shown = re.findall(r"(\d+)\. ([A-Z][\w ]+?) (\d+)", field.group(1))
    assert [(int(rank), name, int(match)) for rank, name, match in shown] == [
        (city["rank"], city["name"], city["match"]) for city in seen
    ]
    assert len(shown) == 5
