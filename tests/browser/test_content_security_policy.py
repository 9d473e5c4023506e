"""Every page works under its Content-Security-Policy in real Chromium: no violation reported,
no script error, for a guest (home, deck, results, forms) and an admin (admin pages, the API's
Swagger UI and ReDoc)."""

import pytest
from django.contrib.auth import get_user_model

from ingest.demo import demo_photos_create
from ml.scoring import model_version_label_prior_ensure

from .conftest import DESKTOP

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"{message.text} {message.location['url']}")
            if message.type == "error" or "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    return problems


def _visit(page, path: str) -> None:
    response = page.goto(path)
    assert response.status < 400, (path, response.status)
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
    page.wait_for_load_state("networkidle")


def test_the_pages_a_person_sees_run_under_the_policy(open_page):
    model_version_label_prior_ensure()
    demo_photos_create(city_count=3, per_city=2)
    page = open_page(DESKTOP)
    problems = _watch(page)
    for path in ("/", "/login/", "/register/"):
        _visit(page, path)
    page.goto("/")
    page.get_by_role("button", name="Start swiping").click()
    page.wait_for_url("**/swipe/")
    page.locator(".card.top img").wait_for()
    page.keyboard.press("ArrowRight")
    _visit(page, "/results/")
    page.locator(".city-card").first.wait_for()
    assert problems == [], problems


def test_the_admin_and_the_api_docs_run_under_the_policy(open_page):
    get_user_model().objects.create_superuser("boss", "", "a-long-admin-password")
    model_version_label_prior_ensure()
    demo_photos_create(city_count=2, per_city=1)
    page = open_page(DESKTOP)
    problems = _watch(page)
    _visit(page, "/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-admin-password")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    for path in (
        "/admin/",
        "/admin/photos/photo/",
        "/admin/photos/photo/add/",
        "/admin/photos/photo/import/",
        "/admin/photos/importbatch/",
        "/admin/ml/modelversion/",
        "/admin/users/profile/",
    ):
        _visit(page, path)
    _visit(page, "/api/v1/docs/")
    page.locator(".swagger-ui .info").wait_for()
    _visit(page, "/api/v1/redoc/")
    page.locator("redoc, #redoc-container, .api-content").first.wait_for()
    assert problems == [], problems
