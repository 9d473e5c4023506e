"""The demo photos on a phone: the card's image has at least as many pixels as the screen shows
it with (no upscaling at 3x), and screenshots of cards in each weather for a person to look at
(test-artifacts/screenshots/demo-*.png)."""

import pytest
from django.core.files.base import ContentFile

from ingest.demo import DEMO_SOURCE
from ingest.runner import photo_ingest
from ml.scoring import model_version_label_prior_ensure
from ml.synthetic import city_photo_jpeg, city_style
from photos.models import City, Photo

from .conftest import PHONE, SCREENSHOTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PHONE_3X = {**PHONE, "device_scale_factor": 3}
# One card of each look, in deck order (the demo cities' recorded styles).
LOOKS = {
    "clear": "london",
    "rain": "new-york",
    "fog": "amsterdam",
    "snow": "reykjavik",
    "night": "hong-kong",
}


def _deck_of_looks():
    model_version_label_prior_ensure()
    for look, slug in LOOKS.items():
        style = city_style(slug)
        assert look in (style.weather, style.time_of_day), (look, slug, style)
        photo_ingest(
            image_file=ContentFile(city_photo_jpeg(slug, 0), name=f"{slug}.jpg"),
            city=City.objects.get(slug=slug),
            source=DEMO_SOURCE,
            is_synthetic=True,
            pipeline=Photo.Pipeline.GENERATED,
        )
    deck = Photo.objects.filter(status=Photo.Status.PUBLISHED).order_by("queue_position")
    assert [photo.city.slug for photo in deck] == list(LOOKS.values())


def test_phone_cards_are_never_upscaled_and_each_weather_is_captured(open_page, screenshot):
    _deck_of_looks()
    page = open_page(PHONE_3X)
    page.goto("/")
    page.get_by_role("button", name="Start swiping").click()
    page.wait_for_url("**/swipe/")
    screenshot(page, "demo-phone-3x")
    for look in LOOKS:
        image = page.locator(".card.top img")
        image.wait_for()
        page.wait_for_function(
            "() => { const i = document.querySelector('.card.top img');"
            " return i && i.complete && i.naturalWidth > 0; }"
        )
        shown = image.evaluate(
            "i => ({natural: i.naturalWidth, naturalHeight: i.naturalHeight,"
            " width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height,"
            " ratio: window.devicePixelRatio})"
        )
        assert shown["ratio"] == 3
        # object-fit: cover fills the card from the photo; 4:5 photo on a 4:5 card: no crop
        scale = max(shown["width"] / shown["natural"], shown["height"] / shown["naturalHeight"])
        assert shown["natural"] * 5 == shown["naturalHeight"] * 4
        assert scale * shown["ratio"] <= 1.0, f"{look}: the photo is upscaled on screen: {shown}"
        page.locator(".card.top").screenshot(path=SCREENSHOTS / f"demo-{look}.png")
        before = page.locator(".card.top").get_attribute("data-photo")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "before => { const top = document.querySelector('.card.top');"
            " return !top || top.dataset.photo !== before; }",
            arg=before,
        )
