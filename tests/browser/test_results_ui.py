"""The results as a person sees them in Chromium: an honest match (all-nope and all-like
sessions), a list sorted by the number shown, "show more" to the very end without errors, city
cards with a photo and visible reasons, the city page, a share link; axe-core on each page."""

import json
import re

import pytest
from django.contrib.auth import get_user_model

from ingest.demo import demo_photos_create
from ml.scoring import model_version_label_prior_ensure
from photos.models import Photo
from users import services
from users.models import Profile

from .conftest import DESKTOP, PHONE, image_loaded

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
User = get_user_model()


@pytest.fixture
def photos():
    model_version_label_prior_ensure()
    demo_photos_create(city_count=14, per_city=2)
    return list(Photo.objects.filter(status=Photo.Status.PUBLISHED).select_related("city"))


def start_guest(page, ranker="bayesian-active"):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/")
    page.get_by_role("button", name="Start swiping").click()
    page.wait_for_url("**/swipe/")
    username = json.loads(page.locator("#client-state").text_content())["username"]
    user = User.objects.get(username=username)
    Profile.objects.filter(user=user).update(ranker=ranker)
    return user, errors


def swipe(user, photos, direction):
    for photo in photos:
        services.swipe_record(user=user, photo_id=photo.pk, direction=direction)


def shown_matches(page):
    page.locator(".city-card").first.wait_for()
    texts = page.locator(".city-match").all_text_contents()
    return [int(re.sub(r"\D", "", text)) for text in texts]


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_all_nopes_show_no_city_above_my_like_rate(open_page, photos, screenshot, axe, size):
    page = open_page(size)
    user, errors = start_guest(page)
    swipe(user, photos[:10], "left")
    page.goto("/results/")
    matches = shown_matches(page)
    summary = page.locator("#results-summary").text_content()
    base = int(re.search(r"yours is (\d+) %", summary).group(1))
    assert "With no like yet, no city is above that." in summary
    assert max(matches) <= base < 50 and matches == sorted(matches, reverse=True)
    assert page.locator(".city-confidence").first.is_visible()
    name = "phone" if size is PHONE else "desktop"
    screenshot(page, f"results-all-nopes-{name}")
    axe(page, f"results ({name})")
    assert not errors


def test_all_likes_rank_with_a_chance_not_a_certainty(open_page, photos, screenshot):
    page = open_page(DESKTOP)
    user, errors = start_guest(page)
    swipe(user, photos, "right")
    page.goto("/results/")
    matches = shown_matches(page)
    assert matches == sorted(matches, reverse=True) and max(matches) < 100
    first = page.locator(".city-card").first
    assert image_loaded(first.locator("img.city-photo"))
    # the reasons are on the card as text and photos, not in a hover tooltip
    assert first.locator(".city-reasons-text").is_visible()
    assert first.locator(".city-reason-photos img").count() >= 1
    assert first.locator("[title]").count() == 0
    screenshot(page, "results-all-likes-desktop")
    assert not errors


def test_show_more_reaches_the_last_city_and_hides(open_page, photos, screenshot):
    page = open_page(PHONE)
    user, errors = start_guest(page, ranker="baseline")
    swipe(user, photos[:6], "right")
    swipe(user, photos[6:12], "left")
    page.goto("/results/")
    shown_matches(page)
    more = page.locator("#show-more")
    assert page.locator(".city-card").count() == 10 and more.is_visible()
    more.click()
    page.wait_for_function("() => document.querySelectorAll('.city-card').length === 14")
    assert more.is_hidden()
    assert page.locator("#results-end").text_content() == "That's all 14 cities in the deck."
    matches = shown_matches(page)
    assert matches == sorted(matches, reverse=True) and max(matches) < 100
    not_in_deck = page.locator("#not-in-deck-summary").text_content()
    assert not_in_deck == "Not in the deck yet: 252 cities"
    screenshot(page, "results-show-more-end-phone")
    assert not errors


def test_a_city_card_opens_the_city_page(open_page, photos, screenshot, axe):
    page = open_page(PHONE)
    user, errors = start_guest(page)
    liked = [photo for photo in photos if photo.city.slug == photos[0].city.slug]
    swipe(user, liked, "right")
    swipe(user, [photo for photo in photos if photo not in liked][:6], "left")
    page.goto("/results/")
    page.locator(".city-card .city-name").first.click()
    page.wait_for_url(f"**/cities/{photos[0].city.slug}/")
    assert page.locator("h1").text_content() == photos[0].city.name
    assert page.locator(".city-page-rank").text_content().startswith("#1 of the 14 cities")
    assert page.get_by_text("Photos you liked that raised it").is_visible()
    assert page.locator(".city-photo-grid img").count() == 2
    screenshot(page, "city-page-phone")
    axe(page, "city page")
    assert not errors


def test_a_share_link_opens_a_read_only_ranking(open_page, photos, screenshot, axe):
    page = open_page(DESKTOP)
    user, errors = start_guest(page)
    swipe(user, photos[:4], "right")
    page.goto("/results/")
    page.get_by_role("button", name="Make a share link").click()
    url = page.locator("#share-url")
    page.wait_for_function("() => document.getElementById('share-url').value.includes('/shared/')")
    link = url.input_value()
    visitor = open_page(PHONE)
    visitor.goto(link)
    assert visitor.locator("h1").text_content() == "Someone's top cities"
    assert visitor.locator(".city-card").count() == 10
    screenshot(visitor, "shared-ranking-phone")
    axe(visitor, "shared ranking")
    page.get_by_role("button", name="End the link").click()
    page.get_by_text("The link no longer works.").wait_for()
    assert visitor.goto(link).status == 404
    assert not errors
