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
    from core.api import csrf_failure

    response = csrf_failure(rf.post("/api/v1/anything/"), reason="CSRF cookie not set.")
    assert "CSRF cookie not set" in _assert_json_error(response, 403)["message"]
    assert csrf_failure(rf.post("/admin/login/"), reason="x")["Content-Type"].startswith(
        "text/html"
    )


# --- strings that are not valid Unicode ---------------------------------------------------------

_NOT_UNICODE = {
    "a lone high surrogate": b'{"username": "\\ud800", "password": "a-long-pass-123"}',
    "a lone low surrogate": b'{"username": "ok", "password": "x\\udfff"}',
    "a surrogate in a key": b'{"username": "ok", "password": "x", "\\ud800": 1}',
    "a surrogate in a nested list": b'{"username": "ok", "password": "x", "a": [[1, "\\udc00"]]}',
}


@pytest.mark.parametrize("path", ["/api/v1/auth/register/", "/api/v1/auth/login/"])
@pytest.mark.parametrize("body", _NOT_UNICODE.values(), ids=_NOT_UNICODE)
def test_strings_that_are_not_unicode_are_a_400_naming_the_problem(client, path, body):
    response = client.post(path, body, content_type="application/json")
    assert "not valid Unicode" in _assert_json_error(response, 400)["message"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"photo": 1, "direction": "\\ud800"}',
        b'{"photo": ["\\udfff"], "direction": "right"}',
        b'{"\\udbff": {"x": ["\\ud800"]}, "photo": 1, "direction": "right"}',
    ],
)
def test_swipes_with_strings_that_are_not_unicode_are_a_400(guest_client, body):
    response = guest_client.post("/api/v1/swipes/", body, content_type="application/json")
    assert "not valid Unicode" in _assert_json_error(response, 400)["message"]


def test_a_surrogate_decoded_from_another_charset_is_a_400_too(guest_client):
    # UTF-7 spells a lone surrogate without any JSON escape
    body = b'{"photo": 1, "direction": "+2AA-"}'
    response = guest_client.post(
        "/api/v1/swipes/", body, content_type="application/json; charset=utf-7"
    )
    assert "not valid Unicode" in _assert_json_error(response, 400)["message"]


def test_paired_surrogates_are_valid_unicode(guest_client):
    body = b'{"photo": 1, "direction": "\\ud83d\\ude00"}'  # an emoji, spelled as a JSON pair
    response = guest_client.post("/api/v1/swipes/", body, content_type="application/json")
    assert "is not a valid choice" in _assert_json_error(response, 400)["message"]


def test_the_error_path_survives_client_strings_that_are_not_unicode(rf):
    from rest_framework import exceptions
    from rest_framework.renderers import JSONRenderer

    from core.api import error_body, exception_handler

    body = error_body(400, "bad \ud800", {"\udfff": ["x\udc00", {"y": ("\ud800",)}], "n": 3})
    assert json.loads(JSONRenderer().render(body)) == {
        "meta": {
            "type": "error",
            "code": 400,
            "message": "bad \\ud800",
            "details": {"\\udfff": ["x\\udc00", {"y": ["\\ud800"]}], "n": 3},
        }
    }
    error = exceptions.ValidationError({"direction": ['"\ud800" is not a valid choice.']})
    response = exception_handler(error, {"request": rf.post("/api/v1/swipes/")})
    rendered = json.loads(JSONRenderer().render(response.data))
    assert rendered["meta"]["message"] == 'direction: "\\ud800" is not a valid choice.'


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cities/?search=%ED%A0%80",
        "/api/v1/cities/?search=%80%FF",
        "/api/v1/cities/?limit=%ED%A0%80",
        "/api/v1/recommendations/?limit=%ED%A0%80",
        "/api/v1/recommendations/?reasons=%F0%9F%98%80",
        "/api/v1/photos/next/?limit=%ED%A0%80",
        "/api/v1/cities/%ED%A0%80/similar/",
    ],
)
def test_query_strings_and_paths_that_are_not_utf8_are_never_a_500(guest_client, path):
    response = guest_client.get(path)
    assert response.status_code < 500 and response["Content-Type"].startswith("application/json")


def test_headers_that_are_not_ascii_are_never_a_500(client):
    response = client.post(
        "/api/v1/swipes/",
        b"{}",
        content_type="application/json",
        HTTP_AUTHORIZATION="Token \xff\xfe",
        HTTP_X_REQUEST_ID="\xff",
    )
    _assert_json_error(response, 401)
