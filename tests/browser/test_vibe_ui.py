""" "Your vibe" as a person sees it in Chromium: the summary in words with how sure, each lean
with its % sure, attribute chips on the city cards; axe-core on the page."""

import re

import pytest

from photos.models import Photo
from tests.factories import attribute_predictions
from users import services

from .conftest import DESKTOP, PHONE, start_as_guest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def scene(i):
    """Photo i: waterfront, fog and night each shown or not, independently over i."""
    shown = {"waterfront": i % 2, "fog": i // 2 % 2, "night": i // 4 % 2}
    return {label: 0.88 * value + 0.05 + 0.01 * (i % 3) for label, value in shown.items()}


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_my_vibe_names_what_i_liked_with_how_sure(open_page, deck, screenshot, axe, size):
    deck(cities=8, per_city=5)
    photos = list(Photo.objects.filter(status=Photo.Status.PUBLISHED).order_by("pk"))
    attribute_predictions({photo.pk: scene(i) for i, photo in enumerate(photos)})
    page = open_page(size)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    user = start_as_guest(page)
    for i, photo in enumerate(photos):  # likes waterfront without fog
        direction = "right" if i % 2 and not i // 2 % 2 else "left"
        services.swipe_record(user=user, photo_id=photo.pk, direction=direction)
    page.goto("/results/")
    page.locator(".city-card").first.wait_for()
    box = page.locator("#vibe")
    assert box.is_visible()
    summary = page.locator("#vibe-summary").text_content()
    assert summary.startswith("waterfront") and "not fog" in summary and "night" not in summary
    sureness = page.locator("#vibe-sureness").text_content()
    assert re.search(r"How sure: (very sure|fairly sure|a first guess), at least \d+ %", sureness)
    first = page.locator("#vibe-to .vibe-lean").first
    assert first.locator(".vibe-attribute").text_content() == "waterfront"
    sure = int(re.match(r"(\d+) % sure", first.locator(".vibe-numbers").text_content()).group(1))
    assert 90 <= sure <= 100
    width = first.locator(".vibe-bar-fill").evaluate("e => e.style.width")
    assert width == f"{sure}%"
    assert page.locator("#vibe-away .vibe-attribute").all_text_contents() == ["fog"]
    chips = page.locator(".city-card .city-attribute")
    assert chips.count() >= 1
    assert set(chips.all_text_contents()) <= {"waterfront", "fog", "night"}
    name = "phone" if size is PHONE else "desktop"
    screenshot(page, f"results-vibe-{name}")
    axe(page, f"results with a vibe ({name})")
    assert not errors


def test_a_new_swiper_sees_why_there_is_no_vibe_yet(open_page, deck):
    deck(cities=4, per_city=2)
    photos = list(Photo.objects.filter(status=Photo.Status.PUBLISHED).order_by("pk"))
    attribute_predictions({photo.pk: scene(i) for i, photo in enumerate(photos)})
    page = open_page(DESKTOP)
    user = start_as_guest(page)
    for photo in photos[:3]:
        services.swipe_record(user=user, photo_id=photo.pk, direction="right")
    page.goto("/results/")
    page.locator(".city-card").first.wait_for()
    assert page.locator("#vibe-summary").text_content() == "Swipe a few more photos."
    assert page.locator("#vibe-leans").is_hidden()
