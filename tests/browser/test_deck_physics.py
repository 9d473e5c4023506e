"""The deck as people expect it from swipe apps, in real headless Chromium: a short fast flick
throws and a slow short drag snaps back, the card leaves along the gesture; a held key swipes
once; undo follows the server's history across navigation and reload, and the side panel and
the hint follow it; a stack of cards; the hint moves nothing; the buttons are on screen on
phones upright and sideways; "My cities" once at every width; no keyboard help on touch
phones; no axe-core violation. Screenshots go to test-artifacts/screenshots/."""

import re
import time

import pytest
from django.contrib.auth import get_user_model

from photos.models import Photo
from users import services
from users.models import Profile, Swipe

from .conftest import (
    DESKTOP,
    PHONE,
    after_swipe,
    eventually,
    image_loaded,
    press,
    start_as_guest,
    top_photo,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
User = get_user_model()

PORTRAIT_375 = {**PHONE, "viewport": {"width": 375, "height": 667}}
LANDSCAPE_667 = {**PHONE, "viewport": {"width": 667, "height": 375}}
LANDSCAPE_844 = {**PHONE, "viewport": {"width": 844, "height": 390}}


def _wait_for_top(page, photo: str) -> None:
    page.wait_for_function(
        "photo => document.querySelector('.card.top')?.dataset.photo === photo", arg=photo
    )


def _swipes(user) -> list[tuple[int, str]]:
    return list(Swipe.objects.filter(user=user).order_by("id").values_list("photo_id", "direction"))


def _drag(page, path, *, touch=False):
    """Press on the top card's middle and move it along ``path``, ``(ms, dx, dy)`` points
    after the press, through the DevTools protocol with those event times (the times the page
    sees as ``event.timeStamp``, so the gesture's speed does not depend on how busy this machine
    is). The last point is the release. Mouse or finger (Chromium makes pointer events of both)."""
    box = page.locator(".card.top").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    start = time.time()

    def send(kind, ms, dx, dy):
        at = start + ms / 1000
        if touch:
            points = [] if kind == "end" else [{"x": x + dx, "y": y + dy}]
            touch_type = {"down": "touchStart", "move": "touchMove", "end": "touchEnd"}[kind]
            event = {"type": touch_type, "touchPoints": points, "timestamp": at}
            cdp.send("Input.dispatchTouchEvent", event)
        else:
            mouse_type = {"down": "mousePressed", "move": "mouseMoved", "end": "mouseReleased"}
            event = {"type": mouse_type[kind], "x": x + dx, "y": y + dy, "timestamp": at}
            if kind != "move":
                event |= {"button": "left", "clickCount": 1}
            else:
                event |= {"button": "left", "buttons": 1}
            cdp.send("Input.dispatchMouseEvent", event)

    send("down", 0, 0, 0)
    for ms, dx, dy in path[:-1]:
        send("move", ms, dx, dy)
    send("end", *path[-1])
    cdp.detach()


def _steps(dx, dy, *, moves, over_ms, hold_ms=0):
    """A straight move by (dx, dy) in ``moves`` steps over ``over_ms``, held still ``hold_ms``,
    then released where it is."""
    path = [(over_ms * i / moves, dx * i / moves, dy * i / moves) for i in range(1, moves + 1)]
    return [*path, (over_ms + hold_ms + 1, dx, dy)]


def _record_exits(page) -> None:
    """From now on, note where each thrown card is headed (its inline transform) and how long
    it takes, when it is thrown (it is gone soon after): ``_exits(page)``."""
    page.evaluate(
        """() => {
          window.exits = [];
          new MutationObserver(() => {
            for (const card of document.querySelectorAll('#deck .card.leaving')) {
              const m = card.style.transform.match(/translate\\((-?[\\d.]+)px, (-?[\\d.]+)px\\)/);
              if (!m || card.dataset.recorded) continue;
              card.dataset.recorded = '1';
              const ms = Number(card.dataset.exitMs);
              window.exits.push({x: Number(m[1]), y: Number(m[2]), ms});
            }
          }).observe(document.getElementById('deck'), {attributes: true, subtree: true});
        }"""
    )


def _exits(page) -> list[dict]:
    return page.evaluate("() => window.exits")


def test_a_short_fast_flick_throws_the_card_along_the_gesture(open_page, deck, screenshot):
    deck(cities=4, per_city=3)
    page = open_page(DESKTOP)
    guest = start_as_guest(page)
    assert page.locator(".card.top").bounding_box()["width"] * 0.3 > 80  # the drag threshold

    # An 80 px flick to the left and a little down, in 60 ms: under the distance threshold,
    # well over the flick speed.
    flicked = top_photo(page)
    _record_exits(page)
    _drag(page, _steps(-80, 30, moves=4, over_ms=60))
    after_swipe(page, flicked)
    [leaving] = eventually(lambda: _exits(page))
    eventually(lambda: _swipes(guest) == [(int(flicked), "left")])
    # It leaves along the release vector (left, and down as much as 30 in 80), at the release
    # speed (about 1.4 px/ms), past the viewport's edge.
    card_left = page.locator(".card.top").bounding_box()["x"]
    assert leaving["x"] < -card_left - 80 and 0.3 < leaving["y"] / -leaving["x"] < 0.45
    speed = ((leaving["x"] + 80) ** 2 + (leaving["y"] - 30) ** 2) ** 0.5 / leaving["ms"]
    assert 1.2 < speed < 1.6, speed

    # A slow throw (far, then released gently) leaves more slowly than the flick.
    slow = top_photo(page)
    _drag(page, _steps(200, 0, moves=10, over_ms=400, hold_ms=150))
    after_swipe(page, slow)
    slow_leaving = eventually(lambda: _exits(page)[1:])[0]
    assert slow_leaving["x"] > page.viewport_size["width"] - card_left and slow_leaving["y"] == 0
    assert slow_leaving["ms"] > leaving["ms"]
    eventually(lambda: _swipes(guest) == [(int(flicked), "left"), (int(slow), "right")])
    screenshot(page, "deck-after-flick")


def test_a_fast_finger_flick_throws_on_a_phone(open_page, deck):
    deck(cities=4, per_city=3)
    page = open_page(PHONE)
    guest = start_as_guest(page)
    flicked = top_photo(page)
    _drag(page, _steps(70, -10, moves=4, over_ms=50), touch=True)  # 70 px in 50 ms
    after_swipe(page, flicked)
    eventually(lambda: _swipes(guest) == [(int(flicked), "right")])


def test_a_slow_short_drag_snaps_back(open_page, deck):
    deck(cities=4, per_city=3)
    page = open_page(DESKTOP)
    guest = start_as_guest(page)
    top = top_photo(page)

    _drag(page, _steps(80, 10, moves=8, over_ms=800, hold_ms=120))  # 80 px in 0.8 s

    page.wait_for_timeout(600)
    assert top_photo(page) == top
    assert page.locator(".card.leaving").count() == 0
    transform = page.locator(".card.top").evaluate("card => getComputedStyle(card).transform")
    assert transform in ("none", "matrix(1, 0, 0, 1, 0, 0)")
    assert _swipes(guest) == []


def test_holding_a_key_swipes_once(open_page, deck):
    deck(cities=4, per_city=3)
    page = open_page(DESKTOP)
    guest = start_as_guest(page)
    first = top_photo(page)
    page.evaluate(
        "() => { window.repeats = 0; document.addEventListener('keydown',"
        " e => { if (e.repeat) window.repeats += 1; }); }"
    )

    for _ in range(10):  # the first keydown, then nine auto-repeats (event.repeat)
        page.keyboard.down("ArrowRight")
    page.keyboard.up("ArrowRight")

    assert page.evaluate("() => window.repeats") == 9
    eventually(lambda: _swipes(guest) == [(int(first), "right")])
    page.wait_for_timeout(500)  # nothing more arrives
    assert _swipes(guest) == [(int(first), "right")]
    assert page.locator("#swipe-count").text_content() == "1 swipe"

    # A held Enter on the focused Like button clicks it once too.
    second = top_photo(page)
    page.locator("#btn-right").focus()
    for _ in range(6):
        page.keyboard.down("Enter")
    page.keyboard.up("Enter")
    eventually(lambda: len(_swipes(guest)) == 2)
    page.wait_for_timeout(500)
    assert _swipes(guest) == [(int(first), "right"), (int(second), "right")]


def test_undo_survives_navigation_and_reload(open_page, deck, screenshot):
    deck(cities=4, per_city=3)
    page = open_page(DESKTOP)
    guest = start_as_guest(page)
    swiped = [press(page, key) for key in ("ArrowRight", "ArrowLeft", "ArrowRight")]
    eventually(lambda: len(_swipes(guest)) == 3)

    # Away to the results and back: the page has no history of its own, the server has.
    page.get_by_role("link", name="My cities", exact=True).click()
    page.wait_for_url("**/results/")
    page.get_by_role("link", name="Keep swiping").click()
    page.wait_for_url("**/swipe/")
    page.locator(".card.top img").wait_for()
    assert page.locator("#btn-undo").is_enabled()
    page.get_by_role("button", name="Undo").click()
    _wait_for_top(page, swiped[2])
    eventually(lambda: len(_swipes(guest)) == 2)
    assert page.locator("#swipe-count").text_content() == "2 swipes"
    assert image_loaded(page.locator(".card.top img"))

    # Reload: the same again, by key, for the one before.
    page.reload()
    page.locator(".card.top img").wait_for()
    page.keyboard.press("u")
    _wait_for_top(page, swiped[1])
    eventually(lambda: _swipes(guest) == [(int(swiped[0]), "right")])
    assert page.locator("#swipe-count").text_content() == "1 swipe"
    assert Profile.objects.get(user=guest).swipe_count == 1
    screenshot(page, "deck-undo-after-reload")

    # The restored card swipes like any other.
    press(page, "ArrowLeft")
    eventually(lambda: _swipes(guest) == [(int(swiped[0]), "right"), (int(swiped[1]), "left")])


def test_undoing_every_swipe_empties_the_panel_and_hides_the_hint(open_page, deck, screenshot):
    deck(cities=4, per_city=4)
    page = open_page(DESKTOP)
    guest = start_as_guest(page)
    for _ in range(12):
        press(page, "ArrowRight")
    hint = page.locator("#hint")
    hint.wait_for(state="visible")
    ranked = page.locator("#panel-ranking ol li")  # the ranked cities, however they look
    ranked.first.wait_for()
    eventually(lambda: len(_swipes(guest)) == 12)
    screenshot(page, "deck-hint-desktop")

    page.keyboard.press("u")  # below 12 swipes: the hint goes
    hint.wait_for(state="hidden")
    for _ in range(11):
        page.get_by_role("button", name="Undo").click()

    eventually(lambda: _swipes(guest) == [])
    assert page.locator("#swipe-count").text_content() == "0 swipes"
    assert page.locator("#btn-undo").is_disabled()
    empty = page.locator("#panel-ranking").get_by_text("Like a few photos to see your ranking.")
    empty.wait_for()
    assert ranked.count() == 0
    assert hint.is_hidden()
    screenshot(page, "deck-all-undone-desktop")


def _boxes(page) -> dict:
    return {
        selector: page.locator(selector).bounding_box()
        for selector in ("#deck", ".card.top", "#btn-left", "#btn-undo", "#btn-right")
    }


def test_the_hint_appears_without_moving_the_card_or_the_buttons(open_page, deck, screenshot):
    deck(cities=4, per_city=4)
    page = open_page(PORTRAIT_375)
    start_as_guest(page)
    for _ in range(11):
        press(page, "ArrowRight")
    assert page.locator("#hint").is_hidden()
    page.wait_for_timeout(400)  # the card under the top one has settled into place
    before = _boxes(page)

    press(page, "ArrowRight")
    page.locator("#hint").wait_for(state="visible")
    page.wait_for_timeout(400)

    after = _boxes(page)
    for selector, box in before.items():  # sub-pixel rounding of a scaled card is not a move
        assert after[selector] == pytest.approx(box, abs=0.5), selector
    hint = page.locator("#hint").bounding_box()
    assert hint["y"] >= before["#deck"]["y"]  # over the card, not above it
    screenshot(page, "deck-hint-phone")


@pytest.mark.parametrize(
    ("name", "size"),
    [("portrait-375x667", PORTRAIT_375), ("landscape-667x375", LANDSCAPE_667),
     ("landscape-844x390", LANDSCAPE_844)],
)  # fmt: skip
def test_the_buttons_are_on_screen_on_phones(open_page, deck, screenshot, name, size):
    deck(cities=4, per_city=4)
    page = open_page(size)
    guest = start_as_guest(page)
    width, height = size["viewport"]["width"], size["viewport"]["height"]

    def check(state):
        page.wait_for_timeout(300)
        assert page.evaluate("() => [window.scrollX, window.scrollY]") == [0, 0]
        for button in ("#btn-left", "#btn-undo", "#btn-right"):
            box = page.locator(button).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (state, button, box)
            assert box["y"] >= 0 and box["y"] + box["height"] <= height, (state, button, box)
        card = page.locator(".card.top").bounding_box()
        assert card["y"] >= 0 and card["y"] + card["height"] <= height, (state, card)
        assert card["height"] >= 0.5 * (height - 100), (state, card)  # most of the room
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        screenshot(page, f"deck-{name}-{state}")

    check("start")
    # With the hint up too (a dozen swipes made before this page, so it shows at once).
    for photo in Photo.objects.filter(status=Photo.Status.PUBLISHED).order_by("pk")[:12]:
        services.swipe_record(user=guest, photo_id=photo.pk, direction="right")
    page.reload()
    page.locator(".card.top img").wait_for()
    page.locator("#hint").wait_for(state="visible")
    check("hint")


def test_my_cities_shows_once_at_every_width(open_page, deck):
    deck(cities=1, per_city=2)
    page = open_page(DESKTOP)
    start_as_guest(page)
    links = page.get_by_role("link", name=re.compile(r"^My cities"))
    for width in (320, 600, 750, 899, 900, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.wait_for_timeout(100)
        visible = [link.text_content() for link in links.all() if link.is_visible()]
        assert len(visible) == 1, (width, visible)


def test_phones_show_no_keyboard_help(open_page, deck):
    deck(cities=1, per_city=2)
    phone = open_page(PORTRAIT_375)
    start_as_guest(phone)
    assert phone.locator(".keys-help").is_hidden()
    desktop = open_page(DESKTOP)
    start_as_guest(desktop)
    assert desktop.locator(".keys-help").is_visible()


def test_two_cards_wait_under_the_top_one(open_page, deck):
    deck(cities=4, per_city=3)
    page = open_page(DESKTOP)
    start_as_guest(page)
    cards = page.locator("#deck .card:not(.leaving)")
    page.wait_for_function("() => document.querySelectorAll('#deck .card').length === 3")
    top = page.locator(".card.top").bounding_box()
    under = page.locator(".card.under")
    assert under.count() == 2 and cards.count() == 3
    for index in range(2):
        card = under.nth(index)
        box = card.bounding_box()
        assert box["width"] < top["width"]  # smaller, its lower edge showing
        assert box["y"] + box["height"] > top["y"] + top["height"] - 0.5
        assert card.get_attribute("aria-hidden") == "true"
        assert image_loaded(card.locator("img"))
    # Swiping brings the next one up: still three.
    press(page, "ArrowLeft")
    page.wait_for_timeout(800)
    assert cards.count() == 3


def test_reduced_motion_swaps_cards_without_animation(open_page, deck):
    deck(cities=4, per_city=3)
    page = open_page({**DESKTOP, "reduced_motion": "reduce"})
    start_as_guest(page)
    # Right after the swipe, in the same task: no card is on its way out, the next is on top.
    leaving, top_changed = page.evaluate(
        """() => {
          const before = document.querySelector('.card.top').dataset.photo;
          const key = new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true});
          document.body.dispatchEvent(key);
          const top = document.querySelector('.card.top');
          return [document.querySelectorAll('.card.leaving').length, top.dataset.photo !== before];
        }"""
    )
    assert leaving == 0 and top_changed
    durations = page.locator("#deck .card").evaluate_all(
        "cards => cards.map(card => getComputedStyle(card).transitionDuration)"
    )
    assert set(durations) == {"0s"}  # nor does the stack slide up


@pytest.mark.parametrize(("name", "size"), [("phone", PORTRAIT_375), ("desktop", DESKTOP)])
def test_the_swipe_page_passes_axe(open_page, deck, axe, name, size):
    deck(cities=4, per_city=3)
    page = open_page(size)
    start_as_guest(page)
    press(page, "ArrowRight")
    page.wait_for_timeout(800)
    axe(page, f"swipe-{name}")
