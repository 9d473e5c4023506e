"""Requests that must get a JSON 4xx, never a 500 or an HTML page."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    meta = json.loads(response.content)["meta"]
    assert meta["type"] == "error" and meta["code"] == status
    return meta


def test_huge_pagination_limits_are_capped(api_client):
    response = api_client.get("/api/v1/cities/?limit=9223372036854775808")
    assert response.status_code == 200 and len(response.json()["results"]) == 266


def test_deeply_nested_json_is_400(guest_client):
    body = "[" * 100_000 + "]" * 100_000
    response = guest_client.post("/api/v1/swipes/", body, content_type="application/json")
    assert "nested too deeply" in _assert_json_error(response, 400)["message"]


def test_token_post_to_a_mistyped_path_is_a_json_404_not_a_csrf_page(guest_client):
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/swipes",
        {"photo": 1, "direction": "right"},
        content_type="application/json",
        HTTP_AUTHORIZATION=guest_client._credentials["HTTP_AUTHORIZATION"],
    )
    _assert_json_error(response, 404)


def test_oversized_body_is_a_json_400(guest_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"photo": 1, "direction": "' + "x" * 5000 + '"}'
    response = guest_client.post("/api/v1/swipes/", body, content_type="application/json")
    _assert_json_error(response, 400)


def test_unknown_host_is_a_json_400(client):
    response = client.get("/api/v1/cities/", HTTP_HOST="evil.example")
    _assert_json_error(response, 400)


def test_csrf_failures_under_api_are_json(rf):
    from cityvibes.api import csrf_failure

    response = csrf_failure(rf.post("/api/v1/anything/"), reason="CSRF cookie not set.")
    assert "CSRF cookie not set" in _assert_json_error(response, 403)["message"]
    assert csrf_failure(rf.post("/admin/login/"), reason="x")["Content-Type"].startswith(
        "text/html"
    )
