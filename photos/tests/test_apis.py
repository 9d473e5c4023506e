import pytest

pytestmark = pytest.mark.django_db


def test_city_list_is_public_paginated_and_searchable(api_client, published_photos):
    published_photos(2, cities=("paris",))
    page = api_client.get("/api/v1/cities/").json()
    assert page["count"] == 266 and len(page["results"]) == 50
    found = api_client.get("/api/v1/cities/?search=par").json()["results"]
    assert {"slug": "paris", "name": "Paris", "photo_count": 2} in found


def test_city_detail_and_unknown_slug(api_client):
    assert api_client.get("/api/v1/cities/tokyo/").json()["name"] == "Tokyo"
    missing = api_client.get("/api/v1/cities/atlantis/")
    assert missing.status_code == 404 and missing.json()["meta"]["code"] == 404


@pytest.mark.parametrize("query", ["search=%00", "search=" + "x" * 101])
def test_bad_search_is_400_not_500(api_client, query):
    response = api_client.get(f"/api/v1/cities/?{query}")
    assert response.status_code == 400
    assert response.json()["meta"]["message"].startswith("search:")
