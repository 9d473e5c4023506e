"""The API's documentation pages (ReDoc and Swagger UI) load everything from this site: no fonts,
scripts or images from another server, so they work offline; and every page, the docs and the
admin included, has an icon that loads."""

import gzip
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model

from .conftest import DESKTOP

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _origin(url: str) -> str:
    # A blob: address (ReDoc's search worker) belongs to the origin that made it.
    parts = urlsplit(url.removeprefix("blob:"))
    return f"{parts.scheme}://{parts.netloc}"


def _record(page) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {"requests": [], "problems": []}
    page.on("request", lambda request: seen["requests"].append(request.url))
    page.on(
        "requestfailed",
        lambda request: seen["problems"].append(f"failed {request.url}: {request.failure}"),
    )
    page.on(
        "response",
        lambda response: (
            seen["problems"].append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    page.on(
        "console",
        lambda message: (
            seen["problems"].append(f"console {message.type}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: seen["problems"].append(f"page error: {error}"))
    return seen


def _assert_same_origin_only(page, seen) -> None:
    origin = _origin(page.url)
    assert seen["requests"], "no request recorded"
    elsewhere = [url for url in seen["requests"] if _origin(url) != origin]
    assert elsewhere == [], f"{page.url} loaded from other servers: {elsewhere}"
    assert seen["problems"] == [], seen["problems"]


def test_redoc_renders_the_operations_from_this_site_alone(open_page, screenshot):
    docs_page = open_page(DESKTOP)
    seen = _record(docs_page)

    docs_page.goto("/api/v1/redoc/")
    docs_page.get_by_role("heading", name="Swipe a photo").wait_for()
    docs_page.wait_for_load_state("networkidle")

    # The side menu lists every operation (in folded groups, so hidden ones count too).
    assert docs_page.locator("[role=menuitem][aria-label='Undo my last swipe']").count() == 1
    # The bundle's badge keeps its link text; its image (from Redocly's CDN) is gone.
    assert docs_page.get_by_role("link", name="API docs by Redocly").count() == 1
    assert docs_page.locator("img[alt='redocly logo']").count() == 0
    assert any("/api/v1/schema/" in url for url in seen["requests"])
    _assert_same_origin_only(docs_page, seen)
    screenshot(docs_page, "docs-redoc")


def test_swagger_ui_renders_the_operations_from_this_site_alone(open_page, screenshot):
    docs_page = open_page(DESKTOP)
    seen = _record(docs_page)

    docs_page.goto("/api/v1/docs/")
    docs_page.locator(".opblock-summary-description", has_text="Swipe a photo").wait_for()
    docs_page.wait_for_load_state("networkidle")

    assert docs_page.locator(".swagger-ui .info .title", has_text="City Vibes API").count() == 1
    _assert_same_origin_only(docs_page, seen)
    screenshot(docs_page, "docs-swagger-ui")


def test_every_page_links_an_icon_that_loads(open_page):
    get_user_model().objects.create_superuser("boss", "", "a-long-admin-password")
    page = open_page(DESKTOP)
    pages = ["/", "/login/", "/register/", "/admin/login/", "/api/v1/docs/", "/api/v1/redoc/"]
    staff_pages = ["/admin/", "/admin/photos/photo/", "/admin/photos/photo/import/"]

    icons = {}
    for path in pages:
        page.goto(path)
        icons[path] = page.evaluate("document.querySelector('link[rel~=icon]')?.href")
    page.goto("/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-admin-password")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    for path in staff_pages:
        page.goto(path)
        icons[path] = page.evaluate("document.querySelector('link[rel~=icon]')?.href")

    assert [path for path, icon in icons.items() if not icon] == []
    for path, icon in icons.items():
        answer = page.request.get(icon)
        assert answer.status == 200, (path, icon, answer.status)
        assert answer.headers["content-type"].startswith("image/"), (path, icon)

    # Browsers still ask for /favicon.ico on their own (bookmarks, other tools): it redirects
    # for good to the same icon.
    redirect = page.request.get("/favicon.ico", max_redirects=0)
    assert redirect.status == 301
    icon = page.request.get("/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/")
    assert icon.url == icons["/"]


def test_the_redoc_bundle_is_served_compressed_cached_and_without_remote_addresses(client):
    plain = client.get("/api/v1/redoc/redoc.standalone.js")
    packed = client.get("/api/v1/redoc/redoc.standalone.js", HTTP_ACCEPT_ENCODING="gzip, br")
    again = client.get("/api/v1/redoc/redoc.standalone.js", HTTP_IF_NONE_MATCH=plain["ETag"])

    assert plain.status_code == 200 and plain["Content-Type"] == "text/javascript"
    assert b"Redoc" in plain.content and b"cdn.redoc.ly" not in plain.content
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert "Accept-Encoding" in plain["Vary"] and "max-age=86400" in plain["Cache-Control"]
    assert again.status_code == 304
