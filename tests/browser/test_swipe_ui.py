"""The browser experience in real headless Chromium: guest start, swiping by keys, drag (mouse
and touch) and buttons, undo, the results page with reasons, registering without losing swipes,
retries that never count twice, and the empty states. Screenshots go to test-artifacts/."""

import re

import pytest
from django.contrib.auth import get_user_model

from ml.scoring import model_version_label_prior_ensure
from users.models import Profile, Swipe
from users.selectors import scores_from_history

from .conftest import DESKTOP, PHONE, after_swipe, eventually, press, start_as_guest, top_photo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
User = get_user_model()


def _drag(page, dx: int) -> str:
    before = top_photo(page)
    box = page.locator(".card.top").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + dx * step / 10, y + 8 * step / 10)
    page.mouse.up()
    after_swipe(page, before)
    return before


def _touch_drag(page, dx: int) -> str:
    """A finger drag, as touch events through the DevTools protocol (Chromium turns them into
    pointer events of type touch)."""
    before = top_photo(page)
    box = page.locator(".card.top").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        point = {"x": x + dx * step / 10, "y": y + 4 * step / 10}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    after_swipe(page, before)
    return before


def _server_swipes(user) -> dict[int, str]:
    return dict(Swipe.objects.filter(user=user).values_list("photo_id", "direction"))


def _assert_scores_match_history(user):
    profile = Profile.objects.get(user=user)
    expected, count = scores_from_history(user_id=user.pk)
    assert profile.swipe_count == count
    for slug in set(expected) | set(profile.city_scores):
        assert abs(profile.city_scores.get(slug, 0.0) - expected.get(slug, 0.0)) < 1e-9


def test_guest_swipes_by_keys_and_drag_undoes_sees_reasons_and_registers(
    open_page, deck, screenshot
):
    deck()
    page = open_page(DESKTOP)
    guest = start_as_guest(page)
    assert page.locator(".card.top img").get_attribute("alt").startswith("Synthetic image of ")

    swiped = {}
    for key, direction in [("ArrowRight", "right")] * 3 + [("ArrowLeft", "left")] * 2:
        swiped[int(press(page, key))] = direction
    swiped[int(_drag(page, 300))] = "right"
    undone = int(_drag(page, -300))
    page.keyboard.press("u")  # undo the last drag: that photo comes back on top
    page.wait_for_function(
        f"() => document.querySelector('.card.top').dataset.photo === '{undone}'"
    )

    assert page.locator("#swipe-count").text_content() == "6 swipes"
    eventually(lambda: _server_swipes(guest) == swiped)
    _assert_scores_match_history(guest)
    panel = page.locator(".results-panel ol li")  # the live panel's cities, on wide screens
    panel.first.wait_for()
    assert panel.count() >= 1
    screenshot(page, "swipe-desktop")

    page.get_by_role("link", name="My cities", exact=True).click()
    page.wait_for_url("**/results/")
    # The ranking's look is ranking.js's (tests/browser/test_results_ui.py): here, that the
    # swipes made it there, with the liked photos behind the top city.
    cities = page.get_by_role("list", name="Cities ranked by match").locator(":scope > li")
    cities.first.wait_for()
    top = cities.first
    assert "Because you liked" in top.text_content()
    reason_alts = top.locator("img").evaluate_all("images => images.map(i => i.alt)")
    assert any(re.search(r"liked", alt, re.IGNORECASE) for alt in reason_alts), reason_alts
    assert page.locator("#results-summary").text_content().startswith("Ranked from your 6 swipes")
    screenshot(page, "results-desktop")

    page.get_by_role("link", name="Save my swipes").first.click()
    page.get_by_label("Username").fill("vibe-seeker")
    page.get_by_label("Password", exact=True).fill("a-long-enough-password-1")
    page.get_by_label("Password again").fill("a-long-enough-password-1")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/swipe/")
    assert page.locator("#swipe-count").text_content() == "6 swipes"
    assert page.locator(".nav-user").text_content() == "vibe-seeker"
    registered = User.objects.get(username="vibe-seeker")
    assert registered.pk == guest.pk and not registered.profile.is_guest
    assert _server_swipes(registered) == swiped


def test_phone_layout_buttons_touch_drag_and_results_page(open_page, deck, screenshot):
    deck()
    page = open_page(PHONE)
    guest = start_as_guest(page)
    assert not page.locator(".results-panel").is_visible()  # a page of its own on phones

    liked = page.locator(".card.top").get_attribute("data-photo")
    page.get_by_role("button", name="Like").click()
    after_swipe(page, liked)
    disliked = page.locator(".card.top").get_attribute("data-photo")
    page.get_by_role("button", name="Nope").click()
    after_swipe(page, disliked)
    touched = _touch_drag(page, 250)
    page.locator("#btn-left").focus()  # keyboard users reach the buttons
    before = top_photo(page)
    page.keyboard.press("Enter")
    after_swipe(page, before)

    expected = {int(liked): "right", int(disliked): "left", int(touched): "right"}
    expected[int(before)] = "left"
    eventually(lambda: _server_swipes(guest) == expected)
    screenshot(page, "swipe-phone")

    page.get_by_role("link", name="My cities →").click()
    page.wait_for_url("**/results/")
    page.get_by_role("list", name="Cities ranked by match").locator("li").first.wait_for()
    screenshot(page, "results-phone")


def test_a_lost_response_is_retried_without_counting_twice(open_page, deck):
    deck()
    page = open_page(DESKTOP)
    guest = start_as_guest(page)
    lost = {"count": 0}

    def lose_first_two_responses(route):
        if route.request.method == "POST" and lost["count"] < 2:
            lost["count"] += 1
            route.fetch()  # the server records the swipe ...
            route.abort("connectionreset")  # ... but the answer never arrives
        else:
            route.continue_()

    page.route("**/api/v1/swipes/", lose_first_two_responses)
    photo = int(press(page, "ArrowRight"))
    page.locator("#net-banner").wait_for(state="visible")
    page.locator("#net-banner").wait_for(state="hidden", timeout=15_000)

    assert lost["count"] == 2
    eventually(lambda: _server_swipes(guest) == {photo: "right"})
    assert Profile.objects.get(user=guest).swipe_count == 1
    _assert_scores_match_history(guest)
    assert page.locator("#swipe-count").text_content() == "1 swipe"


def test_empty_deck_and_end_of_deck_messages(open_page, deck):
    model_version_label_prior_ensure()
    page = open_page(DESKTOP)
    page.goto("/")
    page.get_by_role("button", name="Start swiping").click()
    page.wait_for_url("**/swipe/")
    page.get_by_role("heading", name="No photos yet").wait_for()
    assert page.locator("#btn-right").is_disabled()

    deck(cities=1, per_city=2)
    page.reload()
    page.locator(".card.top img").wait_for()
    press(page, "ArrowRight")
    press(page, "ArrowLeft")
    page.get_by_role("heading", name="You've seen every photo").wait_for()


def test_pages_need_a_profile_and_register_errors_are_shown(open_page, deck):
    page = open_page(DESKTOP)
    page.goto("/swipe/")
    page.wait_for_url("**/?next=/swipe/")
    page.goto("/register/")
    page.get_by_label("Username").fill("someone")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Create account").click()
    assert "too short" in page.locator(".field-error").first.text_content()
    assert not User.objects.filter(username="someone").exists()


def test_active_queue_deck_swipes_every_photo_once(open_page, deck, settings):
    """With the bayesian-active ranker the server picks each batch; the page still shows every
    photo exactly once and ends with the end-of-deck message."""
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": "bayesian-active"}
    photos = deck(cities=4, per_city=3)  # how many photos it made
    page = open_page(DESKTOP)
    user = start_as_guest(page)
    shown = [press(page, "ArrowRight" if i % 3 == 0 else "ArrowLeft") for i in range(photos)]
    page.get_by_role("heading", name="You've seen every photo").wait_for()
    assert len(set(shown)) == photos
    eventually(lambda: Swipe.objects.filter(user=user).count() == photos)
    assert {
        str(pk) for pk in Swipe.objects.filter(user=user).values_list("photo_id", flat=True)
    } == set(shown)
