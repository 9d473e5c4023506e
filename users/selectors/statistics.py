"""The Bayesian rankers' inputs: the catalog's ranking space (cached per process) and a
person's swipe statistics. Reads only: users.services.ranker_state_catch_up stores what
``ranker_statistics`` computes."""

import functools
import hashlib
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
    """The deck's photo arrays over every city (slugs sorted) and the ranking space built from
    them. Built from the database at most every RANKING_SPACE_TTL seconds per process."""

    deck: photo_selectors.DeckArrays
    space: rankers.RankingSpace
    photo_counts: np.ndarray  # deck photos collected for each city

    @property
    def slugs(self) -> tuple[str, ...]:
        return self.deck.slugs

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


_catalog_lock = threading.Lock()
_catalog_cache: dict[str, tuple[float, Catalog]] = {}


def catalog(*, names: dict[str, str] | None = None) -> Catalog:
    """The cached catalog, or a new one (``names``: the caller's fresh read of
    photos.selectors.city_names_by_slug, to spare a query). Built under the lock: when it
    expires, one thread of the process builds it and the others wait for that one (a few
    hundred ms at 50,000 photos) instead of all building it at once, which under load once took
    seconds of CPU."""
    slugs = tuple(sorted(names if names is not None else photo_selectors.city_names_by_slug()))
    with _catalog_lock:
        cached = _catalog_cache.get("current")
        ttl = settings.CITYVIBES["RANKING_SPACE_TTL"]
        if cached and cached[1].slugs == slugs and time.monotonic() - cached[0] < ttl:
            return cached[1]
        deck = photo_selectors.deck_arrays(slugs=slugs)
        counts = np.bincount(deck.labels[deck.labels >= 0], minlength=len(slugs))
        built = Catalog(deck, rankers.ranking_space(deck.arrays, deck.labels), counts)
        _catalog_cache["current"] = (time.monotonic(), built)
        return built


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
