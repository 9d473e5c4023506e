"""Real headless Chromium (Debian's package, never a downloaded browser) driven by Playwright,
against the app served by pytest-django's live server."""

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to check
# the database between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


class _OneRequestAtATimeOnSQLite(ThreadedWSGIServer):
    """The live server, serving one request at a time on SQLite. There every request thread
    shares the test's one in-memory connection, and a page's parallel fetches on it failed now
    and then with a 500 ("cannot open savepoint - SQL statements in progress"). The lock is
    around the application call, not the connection: a kept-alive connection must not hold it
    between requests. PostgreSQL keeps the threads' own connections and real concurrency."""

    _lock = threading.Lock()

    def set_app(self, application):
        from django.db import connection

        if connection.vendor != "sqlite":
            return super().set_app(application)
        lock = self._lock

        def one_at_a_time(environ, start_response):
            with lock:
                return application(environ, start_response)

        return super().set_app(one_at_a_time)


LiveServerThread.server_class = _OneRequestAtATimeOnSQLite


def _serialized_test_database():
    from django.db import connection

    return getattr(connection, "_test_serialized_contents", None)


def _give_back_snapshot(serialized) -> None:
    from django.db import connection

    if serialized is not None and _serialized_test_database() is None:
        connection._test_serialized_contents = serialized


@pytest.fixture(scope="session")
def browser(django_db_setup):
    """Chromium, launched once. Playwright's sync API switches this thread into its own
    greenlet context, where Django hands out a fresh connection object that lacks the snapshot
    of the test database that ``serialized_rollback`` restores (the city catalog); keep it to
    give back to that connection (see ``open_page``)."""
    serialized = _serialized_test_database()
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CITYVIBES_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        _give_back_snapshot(serialized)  # before the first test's database set-up runs
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        browser.serialized_test_database = serialized
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    """open_page(size) -> a new page in a fresh browser context (own cookies and storage)."""
    _give_back_snapshot(browser.serialized_test_database)
    contexts = []

    def open_(size=DESKTOP):
        context = browser.new_context(base_url=live_server.url, **size)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()
    _wait_for_requests_in_flight(live_server)


def _wait_for_requests_in_flight(live_server, timeout: float = 10.0) -> None:
    """Closing a browser context does not wait for the requests its page had in flight, and a
    request still running when the test's database is flushed can write rows that point at
    deleted ones (seen once: the next test's set-up failed on a foreign key, after a late
    recommendations request). Wait until the live server's request threads are done."""
    httpd = getattr(live_server.thread, "httpd", None)
    if httpd is None:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(
            getattr(thread, "_target", None) == httpd.process_request_thread
            for thread in threading.enumerate()
        ):
            return
        time.sleep(0.05)


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.wait_for_timeout(400)  # let card and bar transitions settle
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return take


def eventually(check, timeout=10.0):
    """Poll ``check`` until it returns a truthy value (for state the browser sends in the
    background); fail with its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"condition not met within {timeout} s"
            return value
        time.sleep(0.1)


def image_loaded(image, timeout_ms: int = 10_000) -> bool:
    """Whether the ``<img>`` behind the locator ``image`` shows a decoded picture: waits for its
    load or error event (the file may still be on its way when the card is already on top) and
    answers False on an error, a zero-size picture or no answer within ``timeout_ms``."""
    return image.evaluate(
        """(img, timeoutMs) => img.complete ? img.naturalWidth > 0 : new Promise(resolve => {
            img.addEventListener("load", () => resolve(img.naturalWidth > 0), {once: true});
            img.addEventListener("error", () => resolve(false), {once: true});
            setTimeout(() => resolve(img.complete && img.naturalWidth > 0), timeoutMs);
        })""",
        timeout_ms,
    )


@pytest.fixture
def axe():
    """axe(page, name) -> run axe-core (the copy bundled by the pinned axe-playwright-python) on
    the page as it is now and fail on any violation, listing each rule, its impact and where."""
    from axe_playwright_python.sync_playwright import Axe

    checker = Axe()

    def check(page, name):
        results = checker.run(page)
        violations = results.response["violations"]
        details = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:5])
            for v in violations
        ]
        assert not violations, f"axe-core on {name}: " + "; ".join(details)

    return check


@pytest.fixture
def deck():
    """deck(cities, per_city): synthetic photos, scored by the label prior, in the deck."""
    from ingest.demo import demo_photos_create
    from ml.scoring import model_version_label_prior_ensure

    model_version_label_prior_ensure()

    def make(cities=6, per_city=4):
        return demo_photos_create(city_count=cities, per_city=per_city)

    return make


def start_as_guest(page):
    """Start swiping as a new guest in this page; the guest's user once the first card shows."""
    from django.contrib.auth import get_user_model

    page.goto("/")
    page.get_by_role("button", name="Start swiping").click()
    page.wait_for_url("**/swipe/")
    page.locator(".card.top img").wait_for()
    state = json.loads(page.locator("#client-state").text_content())
    return get_user_model().objects.get(username=state["username"])


def top_photo(page) -> str:
    return page.locator(".card.top").get_attribute("data-photo")


def after_swipe(page, before: str) -> None:
    """Wait until the top card is no longer ``before`` (or the deck is empty)."""
    page.wait_for_function(
        "before => { const top = document.querySelector('.card.top');"
        " return !top || top.dataset.photo !== before; }",
        arg=before,
    )


def press(page, key: str) -> str:
    """Press a key on the deck; the photo that was on top once the next one shows."""
    before = top_photo(page)
    page.keyboard.press(key)
    after_swipe(page, before)
    return before
