"""axe-core finds no accessibility violation on the public pages and on the admin pages this
project templates, at phone and at desktop size; each page state is also saved as a screenshot
(test-artifacts/screenshots/a11y-*)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from ingest.demo import demo_photos_create
from ml.scoring import model_version_label_prior_ensure

from .conftest import DESKTOP, PHONE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])


@pytest.fixture
def check(axe, screenshot):
    """check(page, name): a screenshot of the page as it is, then axe-core on it."""

    def check_(page, name):
        page.wait_for_load_state("networkidle")
        screenshot(page, f"a11y-{name}")
        axe(page, name)

    return check_


def _size_name(size) -> str:
    return "phone" if size is PHONE else "desktop"


@SIZES
def test_the_public_pages_have_no_violations(open_page, check, size):
    page = open_page(size)
    at = _size_name(size)

    page.goto("/")
    check(page, f"home-{at}")
    page.goto("/login/")
    check(page, f"login-{at}")
    page.get_by_role("button", name="Log in").click()
    page.locator(".field-error, .form-errors").first.wait_for()
    check(page, f"login-errors-{at}")
    page.goto("/register/")
    check(page, f"register-{at}")
    page.fill("#id_username", "not a valid name!")
    page.get_by_role("button", name="Create account").click()
    page.locator(".field-error").first.wait_for()
    check(page, f"register-errors-{at}")

    page.goto("/")
    page.get_by_role("button", name="Start swiping").click()
    page.wait_for_url("**/swipe/")
    page.goto("/")
    page.get_by_role("link", name="Continue swiping").wait_for()
    check(page, f"home-guest-{at}")


@SIZES
def test_the_rate_limited_guest_start_page_has_no_violations(open_page, check, settings, size):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "guest_ip": "1/hour"}
    cache.clear()
    try:
        first = open_page(size)
        first.goto("/")
        first.get_by_role("button", name="Start swiping").click()
        first.wait_for_url("**/swipe/")

        page = open_page(size)
        page.goto("/")
        with page.expect_response("**/start/") as refused:
            page.get_by_role("button", name="Start swiping").click()
        assert refused.value.status == 429
        page.get_by_text("Too many guest starts").wait_for()
        check(page, f"guest-start-limited-{_size_name(size)}")
    finally:
        cache.clear()


@SIZES
def test_the_admin_pages_we_template_have_no_violations(open_page, check, size):
    get_user_model().objects.create_superuser("boss", "", "a-long-admin-password")
    model_version_label_prior_ensure()
    demo_photos_create(city_count=2, per_city=2)
    page = open_page(size)
    at = _size_name(size)

    page.goto("/admin/login/")
    check(page, f"admin-login-{at}")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    page.locator(".errornote").wait_for()
    check(page, f"admin-login-errors-{at}")
    page.fill("#id_password", "a-long-admin-password")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")

    page.goto("/admin/photos/photo/")
    page.get_by_role("link", name="Import many photos").wait_for()
    check(page, f"admin-photos-{at}")
    page.get_by_role("link", name="Import many photos").click()
    page.wait_for_url("**/admin/photos/photo/import/")
    check(page, f"admin-import-{at}")
    page.get_by_role("button", name="Import").click()
    page.locator(".errorlist").first.wait_for()
    check(page, f"admin-import-errors-{at}")
