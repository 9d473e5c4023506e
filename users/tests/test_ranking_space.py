"""The ranking space covers the cities that have deck photos, not the whole catalog: stored
statistics over other cities are rebuilt, the ranking of the deck's cities is the one the full
catalog gives when the other cities' columns are zero, and the cache serves an expired catalog
while a background thread builds the next."""

import threading

import numpy as np
import pytest

from photos.models import City
from tests.factories import UserFactory
from users import rankers, selectors, services
from users.models import Profile, RankerState
from users.selectors import statistics

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_ranker(settings):
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": "bayesian-active"}


def test_the_space_has_one_dimension_per_city_with_deck_photos(published_photos):
    # given a catalog of 266 cities of which three have deck photos
    published_photos(6, cities=("paris", "rome", "tokyo"))
    # when the catalog is built
    current = selectors.catalog()
    # then only those three are in it, each with its photos
    assert City.objects.count() == 266
    assert current.slugs == ("paris", "rome", "tokyo")
    assert current.space.size == 3 and current.deck.arrays.shape == (6, 3)
    assert current.photo_counts.tolist() == [2, 2, 2]
    assert current.deck_size == 6
    assert current.in_deck("rome") and not current.in_deck("oslo")


def test_an_empty_deck_gives_an_empty_space_and_an_empty_batch(db, active_ranker, guest_client):
    assert selectors.catalog().slugs == ()
    body = guest_client.get("/api/v1/photos/next/").json()
    assert body == {"results": [], "deck_size": 0}


def test_stored_statistics_over_other_cities_are_rebuilt_over_the_deck_cities(
    published_photos, active_ranker
):
    # given a person whose stored state is over all 266 catalog cities (as before this change)
    user = UserFactory()
    photos = published_photos(6, cities=("paris", "rome"))
    for photo, direction in zip(photos[:4], ("right", "left", "right", "right"), strict=True):
        services.swipe_record(user=user, photo_id=photo.pk, direction=direction)
    profile = Profile.objects.get(user=user)
    every_city = tuple(sorted(City.objects.values_list("slug", flat=True)))
    old = selectors.ranker_statistics(profile=profile, slugs=every_city)
    RankerState.objects.create(
        profile=profile,
        cities_key=old.cities_key,
        swipe_count=old.swipe_count,
        last_swipe_id=old.last_swipe_id,
        statistics=old.statistics.to_bytes(),
    )
    # when the endpoints catch it up
    caught_up = services.ranker_state_catch_up(profile=profile)
    # then it is over the deck's two cities, equal to the history's, and stored so
    assert caught_up.slugs == ("paris", "rome")
    fresh = selectors.swipe_statistics_from_history(user_id=user.pk, slugs=("paris", "rome"))
    np.testing.assert_allclose(caught_up.statistics.gram, fresh.gram)
    np.testing.assert_allclose(caught_up.statistics.moment, fresh.moment)
    stored = RankerState.objects.get(profile=profile)
    assert stored.cities_key == selectors.cities_key(("paris", "rome"))
    assert len(bytes(stored.statistics)) == (3 * 4 // 2 + 3) * 8  # a 3 x 3 triangle + 3


def test_the_deck_cities_rank_as_in_the_full_catalog_when_the_others_columns_are_zero():
    # given arrays over 5 cities where cities 3 and 4 have no photos and zero probability
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, size=60)
    arrays = np.zeros((60, 5))
    arrays[:, :3] = rng.dirichlet(np.ones(3), size=60)
    slugs = ("a", "b", "c", "d", "e")
    deck = statistics.deck_over_cities_with_photos(
        statistics.photo_selectors.DeckArrays(slugs, np.arange(60), arrays, labels)
    )
    full = rankers.ranking_space(arrays, labels)
    small = rankers.ranking_space(deck.arrays, deck.labels)
    swiped_full = rankers.SwipeStatistics.empty(5)
    swiped_small = rankers.SwipeStatistics.empty(3)
    signs = rng.choice([-1.0, 1.0], size=12)
    for row, sign in enumerate(signs):
        swiped_full.add(arrays[row], sign)
        swiped_small.add(deck.arrays[row], sign)
    # then the smaller model gives the deck cities the same scores and the same batch (the
    # posterior-variance and random picks; a Thompson draw has more dimensions to draw)
    assert deck.slugs == ("a", "b", "c")
    np.testing.assert_allclose(
        rankers.bayesian_city_scores(small, swiped_small),
        rankers.bayesian_city_scores(full, swiped_full)[:3],
        atol=1e-9,
    )
    policy = rankers.QueuePolicy(likely_like_share=0.0, exploration_share=0.3)
    first = rankers.photo_batch(full, swiped_full, arrays, 8, np.random.default_rng(1), policy)
    second = rankers.photo_batch(
        small, swiped_small, deck.arrays, 8, np.random.default_rng(1), policy
    )
    assert first == second


def test_labels_of_cities_are_renumbered_and_unlabelled_photos_stay_unlabelled():
    arrays = np.arange(12, dtype=float).reshape(3, 4)
    deck = statistics.deck_over_cities_with_photos(
        statistics.photo_selectors.DeckArrays(
            ("a", "b", "c", "d"), np.array([7, 8, 9]), arrays, np.array([3, -1, 1])
        )
    )
    assert deck.slugs == ("b", "d")
    assert deck.labels.tolist() == [1, -1, 0]
    assert deck.arrays.tolist() == [[1.0, 3.0], [5.0, 7.0], [9.0, 11.0]]
    assert deck.photo_ids.tolist() == [7, 8, 9]


def test_a_deck_without_any_labelled_photo_keeps_the_cities_its_arrays_know():
    arrays = np.array([[0.7, 0.0, 0.3], [0.2, 0.0, 0.8]])
    deck = statistics.deck_over_cities_with_photos(
        statistics.photo_selectors.DeckArrays(
            ("a", "b", "c"), np.array([1, 2]), arrays, np.array([-1, -1])
        )
    )
    assert deck.slugs == ("a", "c")
    assert deck.arrays.tolist() == [[0.7, 0.3], [0.2, 0.8]]


def test_an_expired_catalog_is_served_while_another_thread_builds_the_next(
    published_photos, settings, monkeypatch
):
    # given a cached catalog that has expired
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKING_SPACE_TTL": 60}
    monkeypatch.setattr(statistics, "_catalog_cache", {})
    published_photos(3)
    first = selectors.catalog()
    built_at, cached = statistics._catalog_cache["current"]
    statistics._catalog_cache["current"] = (built_at - 61, cached)
    # when another thread is building the next one, the expired one is served without waiting
    assert statistics._catalog_lock.acquire(blocking=False)
    try:
        assert selectors.catalog() is first
    finally:
        statistics._catalog_lock.release()
    # and once nobody is building it, the next call still gets the expired one at once while a
    # background thread builds the next (no request waits for a rebuild)
    built_in = []

    def build(names):
        built_in.append(threading.current_thread().name)
        return "the next catalog"

    monkeypatch.setattr(statistics, "_catalog_build", build)
    assert selectors.catalog() is first
    for thread in threading.enumerate():
        if thread.name == "cityvibes-catalog":
            thread.join(timeout=30)
    assert built_in == ["cityvibes-catalog"]
    assert selectors.catalog() == "the next catalog"  # fresh: served from the cache
    assert built_in == ["cityvibes-catalog"]
