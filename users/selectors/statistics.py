"""The Bayesian rankers' inputs: the catalog's ranking space (cached per process) and a
person's swipe statistics. Reads only: users.services.ranker_state_catch_up stores what
``ranker_statistics`` computes."""

import functools
import hashlib
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from photos import selectors as photo_selectors
from photos.models import Photo

from .. import rankers
from ..models import Profile, RankerState, Swipe

# ---- the catalog's ranking space ------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """The deck's photo arrays over the cities that have deck photos (slugs sorted) and the
    ranking space built from them. A catalog city without deck photos is left out: nobody can
    have shown a taste for it, its column of the arrays is (nearly) zero, and carrying it would
    only grow every matrix (266 x 266 instead of 24 x 24 on the demo). Built from the database
    at most every RANKING_SPACE_TTL seconds per process."""

    deck: photo_selectors.DeckArrays
    space: rankers.RankingSpace
    photo_counts: np.ndarray  # deck photos collected for each city of ``slugs`` (all > 0)

    @property
    def slugs(self) -> tuple[str, ...]:
        return self.deck.slugs

    @property
    def deck_size(self) -> int:
        """Photos in the deck this catalog was built from (the active queue picks among them)."""
        return len(self.deck.photo_ids)

    def in_deck(self, slug: str) -> bool:
        """The city has deck photos (collected for it): a person can have a taste for it."""
        index = self._positions.get(slug)
        return index is not None and bool(self.photo_counts[index])

    def typical_photo_ids(self, slug: str, limit: int) -> list[int]:
        """The city's deck photos, the most typical by the model first (the highest
        probability for their own city)."""
        index = self._positions.get(slug)
        if index is None:
            return []
        own = np.flatnonzero(self.deck.labels == index)
        order = own[np.argsort(-self.deck.arrays[own, index], kind="stable")]
        return [int(photo_id) for photo_id in self.deck.photo_ids[order[:limit]]]

    @functools.cached_property
    def _positions(self) -> dict[str, int]:
        return {slug: i for i, slug in enumerate(self.slugs)}


logger = logging.getLogger(__name__)
_catalog_lock = threading.Lock()
_catalog_cache: dict[str, tuple[float, Catalog]] = {}


def catalog(*, names: dict[str, str] | None = None) -> Catalog:
    """The cached catalog, or a new one (``names``: the caller's fresh read of
    photos.selectors.city_names_by_slug, to spare a query when it is built). Building takes
    seconds at 50,000 photos (most of it reading and decoding the arrays), so once the cached one
    has expired a background thread of the process builds the next while every request goes on
    with the expired one: no request waits for a rebuild. Only a process without a catalog yet
    (or with RANKING_SPACE_TTL 0, the tests) builds it in the request."""
    ttl = settings.CITYVIBES["RANKING_SPACE_TTL"]
    cached = _catalog_cache.get("current")
    if cached is not None and time.monotonic() - cached[0] < ttl:
        return cached[1]
    if cached is not None and ttl > 0:
        if _catalog_lock.acquire(blocking=False):  # else another thread is building it
            threading.Thread(
                target=_catalog_rebuild, args=(names,), name="cityvibes-catalog", daemon=True
            ).start()
        return cached[1]
    with _catalog_lock:
        cached = _catalog_cache.get("current")
        if cached is not None and time.monotonic() - cached[0] < ttl:
            return cached[1]  # built by another thread while this one waited
        built = _catalog_build(names)
        _catalog_cache["current"] = (time.monotonic(), built)
        return built


def _catalog_rebuild(names: dict[str, str] | None) -> None:
    """The background rebuild (holding the lock its starter took); its own database connection
    is closed when done."""
    from django.db import connections

    try:
        _catalog_cache["current"] = (time.monotonic(), _catalog_build(names))
    except Exception:  # the expired catalog stays; the next request after the TTL tries again
        logger.exception("ranking catalog rebuild failed")
        cached = _catalog_cache.get("current")
        if cached is not None:
            _catalog_cache["current"] = (time.monotonic(), cached[1])
    finally:
        connections.close_all()
        _catalog_lock.release()


def _catalog_build(names: dict[str, str] | None) -> Catalog:
    every_city = tuple(sorted(names if names is not None else photo_selectors.city_names_by_slug()))
    deck = deck_over_cities_with_photos(photo_selectors.deck_arrays(slugs=every_city))
    counts = np.bincount(deck.labels[deck.labels >= 0], minlength=len(deck.slugs))
    return Catalog(deck, rankers.ranking_space(deck.arrays, deck.labels), counts)


def deck_over_cities_with_photos(
    deck: photo_selectors.DeckArrays,
) -> photo_selectors.DeckArrays:
    """The deck's arrays restricted to the cities some deck photo was collected for (their
    columns, in the same order; labels renumbered). Exact for the Bayesian model when the other
    cities' columns are zero (a model version that does not know them): a city nobody has a
    photo of adds a block of the posterior that no swipe ever touches. A deck where no photo
    has a city (all imported unlabelled) keeps every city its arrays give a probability."""
    counts = np.bincount(deck.labels[deck.labels >= 0], minlength=len(deck.slugs))
    kept = np.flatnonzero(counts)
    if not len(kept):
        kept = np.flatnonzero(deck.arrays.any(axis=0))
    renumbered = np.full(len(deck.slugs) + 1, -1)  # the last entry maps label -1 to -1
    renumbered[kept] = np.arange(len(kept))
    return photo_selectors.DeckArrays(
        slugs=tuple(deck.slugs[i] for i in kept),
        photo_ids=deck.photo_ids,
        arrays=np.ascontiguousarray(deck.arrays[:, kept]),
        labels=renumbered[deck.labels],
    )


def cities_key(slugs: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(slugs).encode()).hexdigest()


def array_in_order(photo: Photo, slugs: tuple[str, ...]) -> np.ndarray:
    by_slug = photo.probability_by_slug()
    return np.array([by_slug.get(slug, 0.0) for slug in slugs])


# ---- a person's swipe statistics --------------------------------------------------------------


@dataclass(frozen=True)
class RankerStatistics:
    """A person's swipe statistics as they are now, over the cities in ``slugs`` order, with
    what a RankerState row holding them records. ``is_stored``: the stored row already holds
    exactly these (nothing to save)."""

    slugs: tuple[str, ...]
    statistics: rankers.SwipeStatistics
    swipe_count: int
    last_swipe_id: int
    is_stored: bool

    @property
    def cities_key(self) -> str:
        return cities_key(self.slugs)


def _statistics_from(swipes, slugs: tuple[str, ...], statistics=None):
    statistics = statistics or rankers.SwipeStatistics.empty(len(slugs))
    for swipe in swipes:
        statistics.add(array_in_order(swipe.photo, slugs), swipe.sign)
    return statistics


def swipe_statistics_from_history(*, user_id: int, slugs: tuple[str, ...]):
    swipes = Swipe.objects.filter(user_id=user_id).select_related("photo__model_version")
    return _statistics_from(swipes.order_by("id").iterator(chunk_size=500), slugs)


def ranker_statistics(*, profile: Profile, slugs: tuple[str, ...]) -> RankerStatistics:
    """The Bayesian rankers' statistics of this person's swipes, for ``profile.swipe_count``
    swipes: the stored RankerState caught up with the swipes made since it was saved (usually
    the last few), or rebuilt from the whole history when it cannot be (none stored, other
    cities, or an undo since: its count plus the new swipes no longer equals the profile's).

    Writes nothing. users.services.ranker_state_catch_up calls it with the profile row locked
    (so no swipe or undo lands between the reads) and stores the result."""
    state = RankerState.objects.filter(profile_id=profile.pk).first() if profile.pk else None
    swipes = Swipe.objects.filter(user_id=profile.user_id).select_related("photo__model_version")
    usable = state is not None and state.cities_key == cities_key(slugs)
    since = []
    if usable:
        since = list(swipes.filter(id__gt=state.last_swipe_id).order_by("id"))
        usable = state.swipe_count + len(since) == profile.swipe_count
    if usable:
        stored = rankers.SwipeStatistics.from_bytes(bytes(state.statistics), len(slugs))
        if not since:
            return RankerStatistics(slugs, stored, state.swipe_count, state.last_swipe_id, True)
        statistics = _statistics_from(since, slugs, stored)
        last_swipe_id = since[-1].pk
    else:
        history = list(swipes.order_by("id"))
        statistics = _statistics_from(history, slugs)
        last_swipe_id = history[-1].pk if history else 0
    return RankerStatistics(slugs, statistics, profile.swipe_count, last_swipe_id, False)


def statistics_for(
    *, profile: Profile, current: Catalog, statistics: RankerStatistics | None
) -> rankers.SwipeStatistics:
    """The caller's caught-up statistics when they are over the catalog's cities; otherwise
    (none given, or the catalog changed in between) read afresh, without storing them."""
    if statistics is not None and statistics.slugs == current.slugs:
        return statistics.statistics
    return ranker_statistics(profile=profile, slugs=current.slugs).statistics
