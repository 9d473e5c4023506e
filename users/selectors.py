"""Reads for people: their deck of next photos, their swipes, recomputed scores and the
ranked cities. (One write hides here: swipe_statistics refreshes its cache, RankerState.)"""

import hashlib
import heapq
import threading
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from photos import selectors as photo_selectors
from photos.models import Photo

from . import rankers
from .models import Profile, RankerState, Swipe

LOOK_ALIKE_MIN = 0.5  # similarity from which a liked photo of another city explains this one


def profile_get(*, user) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def ranker_of(profile: Profile) -> str:
    return profile.ranker or settings.CITYVIBES["RANKER"]


# ---- the catalogue's ranking space ------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """The deck's photo arrays over every city (slugs sorted) and the ranking space built from
    them. Built from the database at most every RANKING_SPACE_TTL seconds per process."""

    deck: photo_selectors.DeckArrays
    space: rankers.RankingSpace
    photo_counts: np.ndarray  # deck photos collected for each city

    @property
    def slugs(self) -> tuple[str, ...]:
        return self.deck.slugs


_catalogue_lock = threading.Lock()
_catalogue_cache: dict[str, tuple[float, Catalogue]] = {}


def catalogue() -> Catalogue:
    """The cached catalogue, or a new one. Built under the lock: when it expires, one thread of
    the process builds it and the others wait for that one (a few hundred ms at 50,000 photos)
    instead of all building it at once, which under load once took seconds of CPU."""
    slugs = tuple(sorted(photo_selectors.city_names_by_slug()))
    with _catalogue_lock:
        cached = _catalogue_cache.get("current")
        ttl = settings.CITYVIBES["RANKING_SPACE_TTL"]
        if cached and cached[1].slugs == slugs and time.monotonic() - cached[0] < ttl:
            return cached[1]
        deck = photo_selectors.deck_arrays(slugs=slugs)
        counts = np.bincount(deck.labels[deck.labels >= 0], minlength=len(slugs))
        built = Catalogue(deck, rankers.ranking_space(deck.arrays, deck.labels), counts)
        _catalogue_cache["current"] = (time.monotonic(), built)
        return built


def cities_key(slugs: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(slugs).encode()).hexdigest()


def array_in_order(photo: Photo, slugs: tuple[str, ...]) -> np.ndarray:
    by_slug = photo.probability_by_slug()
    return np.array([by_slug.get(slug, 0.0) for slug in slugs])


def _statistics_from(swipes, slugs: tuple[str, ...], statistics=None):
    statistics = statistics or rankers.SwipeStatistics.empty(len(slugs))
    for swipe in swipes:
        statistics.add(array_in_order(swipe.photo, slugs), swipe.sign)
    return statistics


def swipe_statistics_from_history(*, user_id: int, slugs: tuple[str, ...]):
    swipes = Swipe.objects.filter(user_id=user_id).select_related("photo__model_version")
    return _statistics_from(swipes.order_by("id").iterator(chunk_size=500), slugs)


def swipe_statistics(*, profile: Profile, slugs: tuple[str, ...]):
    """The Bayesian rankers' statistics of this person's swipes as they are now.

    Kept in RankerState, a cache of the history that the swipe path never writes (it is ~280
    KiB at 266 cities; rewriting it on every swipe was most of a swipe's cost). Here, the stored
    state is caught up with the swipes made since it was saved (usually the last few), or rebuilt
    from the whole history when it cannot be (none stored, other cities, or an undo since: its
    count plus the new swipes no longer equals the profile's), and saved again. The profile row
    is locked meanwhile, so no swipe or undo of this person lands between the reads."""
    key = cities_key(slugs)
    with transaction.atomic():
        count = Profile.objects.select_for_update().values_list("swipe_count", flat=True)
        swipe_count = count.get(pk=profile.pk)
        state = RankerState.objects.filter(profile_id=profile.pk).first()
        usable = state is not None and state.cities_key == key
        swipes = Swipe.objects.filter(user_id=profile.user_id).select_related(
            "photo__model_version"
        )
        since = []
        if usable:
            since = list(swipes.filter(id__gt=state.last_swipe_id).order_by("id"))
            usable = state.swipe_count + len(since) == swipe_count
        if usable and not since:
            return rankers.SwipeStatistics.from_bytes(bytes(state.statistics), len(slugs))
        if usable:
            stored = rankers.SwipeStatistics.from_bytes(bytes(state.statistics), len(slugs))
            statistics = _statistics_from(since, slugs, stored)
            last_swipe_id = since[-1].pk
        else:
            history = list(swipes.order_by("id"))
            statistics = _statistics_from(history, slugs)
            last_swipe_id = history[-1].pk if history else 0
        values = {
            "cities_key": key,
            "swipe_count": swipe_count,
            "last_swipe_id": last_swipe_id,
            "statistics": statistics.to_bytes(),
            "updated_at": timezone.now(),
        }
        if not RankerState.objects.filter(profile_id=profile.pk).update(**values):
            RankerState.objects.create(profile_id=profile.pk, **values)
    return statistics


# ---- the deck ---------------------------------------------------------------------------------


def photos_next(*, user, limit: int) -> list[Photo]:
    """The next photos for this person, never one they swiped: the active queue's picks for the
    bayesian-active ranker, otherwise the fixed global queue in order."""
    profile = profile_get(user=user)
    if ranker_of(profile) == rankers.BAYESIAN_ACTIVE:
        return _active_photos_next(profile=profile, limit=limit)
    swiped = Swipe.objects.filter(user=user, photo=OuterRef("pk"))
    deck = photo_selectors.photo_deck(from_position=profile.queue_position)
    return list(deck.exclude(Exists(swiped))[:limit])


def _active_photos_next(*, profile: Profile, limit: int) -> list[Photo]:
    """The active queue's next photos among a random sample of the unswiped deck. Seeded by the
    person and their swipe count, so asking twice without swiping gives the same batch."""
    current = catalogue()
    swiped = list(Swipe.objects.filter(user_id=profile.user_id).values_list("photo_id", flat=True))
    unseen = np.flatnonzero(~np.isin(current.deck.photo_ids, swiped))
    rng = np.random.default_rng([profile.user_id, profile.swipe_count])
    sample_size = settings.CITYVIBES["ACTIVE_CANDIDATES"]
    if len(unseen) > sample_size:
        unseen = np.sort(rng.choice(unseen, size=sample_size, replace=False))
    statistics = swipe_statistics(profile=profile, slugs=current.slugs)
    picks = rankers.photo_batch(current.space, statistics, current.deck.arrays[unseen], limit, rng)
    ids = [int(current.deck.photo_ids[unseen[pick]]) for pick in picks]
    return photo_selectors.photos_in_order(photo_ids=ids)


def first_unswiped_position(*, user, from_position: int) -> int:
    """The queue position of the first deck photo from ``from_position`` on that this person has
    not swiped; past the end of the queue when there is none."""
    swiped = Swipe.objects.filter(user=user, photo=OuterRef("pk"))
    deck = photo_selectors.photo_deck(from_position=from_position).exclude(Exists(swiped))
    position = deck.values_list("queue_position", flat=True).first()
    return position if position is not None else photo_selectors.queue_end()


def swipes_of(*, user) -> QuerySet[Swipe]:
    return Swipe.objects.filter(user=user).select_related("photo__city").order_by("-id")


def scores_from_history(*, user_id: int) -> tuple[dict[str, float], int]:
    """The running scores the swipe history gives (in swipe order), and the swipe count."""
    scores: dict[str, float] = {}
    swipes = (
        Swipe.objects.filter(user_id=user_id).select_related("photo__model_version").order_by("id")
    )
    count = 0
    for swipe in swipes.iterator(chunk_size=500):
        count += 1
        sign = swipe.sign
        for slug, probability in swipe.photo.probability_by_slug().items():
            scores[slug] = scores.get(slug, 0.0) + sign * probability
    return scores, count


# ---- recommendations --------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedCity:
    rank: int
    slug: str
    name: str
    score: float
    match: int


def match_value(score: float, strongest: float) -> int:
    """0-100: 50 is neutral, 100 the strongest positive signal of this person, 0 the strongest
    negative. Monotone in the score, so the match bars follow the ranking."""
    if strongest <= settings.CITYVIBES["SCORE_DRIFT_TOLERANCE"]:
        return 50
    return round(50 + 50 * score / strongest)


@dataclass(frozen=True)
class Recommendations:
    cities: list[RankedCity]
    swipe_count: int
    ranker: str


def recommendations(*, user, limit: int) -> Recommendations:
    """Cities by this person's ranker's score (ties by name) with their match value: the
    running scores for the baseline, the Bayesian model's predicted likes otherwise. The
    Bayesian rankers put cities without deck photos last: nobody could have shown a taste for
    them, their score is only the prior's guess."""
    profile = profile_get(user=user)
    names = photo_selectors.city_names_by_slug()
    ranker = ranker_of(profile)
    without_photos: set[str] = set()
    if ranker == rankers.BASELINE or not names:
        scores = {slug: profile.city_scores.get(slug, 0.0) for slug in names}
    else:
        current = catalogue()
        statistics = swipe_statistics(profile=profile, slugs=current.slugs)
        values = rankers.bayesian_city_scores(current.space, statistics)
        scores = {slug: float(value) for slug, value in zip(current.slugs, values, strict=True)}
        without_photos = {
            s for s, n in zip(current.slugs, current.photo_counts, strict=True) if not n
        }
    strongest = max((abs(score) for score in scores.values()), default=0.0)
    # Rounded for ordering only, so that float noise does not break ties by name.
    ordered = sorted(
        scores.items(),
        key=lambda item: (item[0] in without_photos, -round(item[1], 9), names[item[0]]),
    )
    ordered = ordered[:limit]
    ranked = [
        RankedCity(rank, slug, names[slug], score, match_value(score, strongest))
        for rank, (slug, score) in enumerate(ordered, start=1)
    ]
    return Recommendations(ranked, profile.swipe_count, ranker)


@dataclass(frozen=True)
class SimilarCity:
    slug: str
    name: str
    similarity: float


def similar_cities(*, slug: str, limit: int) -> list[SimilarCity] | None:
    """The cities that look most like this one to the CNN (cosine similarity of their photos'
    mean log-probability arrays), most similar first; None for an unknown city. Cities without
    photos in the deck have no look to compare and are left out."""
    current = catalogue()
    if slug not in current.slugs:
        return None
    index = current.slugs.index(slug)
    if current.photo_counts[index] == 0:
        return []
    names = photo_selectors.city_names_by_slug()
    similarity = current.space.similarity[index]
    others = [i for i in np.argsort(-similarity, kind="stable") if i != index]
    return [
        SimilarCity(current.slugs[i], names.get(current.slugs[i], ""), float(similarity[i]))
        for i in others
        if current.photo_counts[i] > 0
    ][:limit]


@dataclass(frozen=True)
class Reason:
    """A liked photo and how much it added to one city's score; ``look_alike``: the photo is of
    a city that looks like this one, not of this one."""

    photo: Photo
    contribution: float
    look_alike: bool = False


def liked_photo_reasons(*, user, slugs: list[str], per_city: int) -> dict[str, list[Reason]]:
    """For each city in ``slugs``, the liked (right-swiped) photos that pushed its score up the
    most: "because you liked ...". One query over the person's likes.

    A photo counts only if it gave the city more than an uninformative photo would (more than
    1 / number of classes): a like spread thinly over every city explains none of them. A city
    no liked photo explains (the Bayesian rankers lift look-alikes of liked cities) gets the
    liked photos of its look-alike cities (similarity >= LOOK_ALIKE_MIN), weighted by how
    alike they are."""
    if per_city < 1 or not slugs:
        return {slug: [] for slug in slugs}
    wanted = set(slugs)
    direct: dict[str, list[tuple[float, int, Photo]]] = {slug: [] for slug in slugs}
    own_city: list[tuple[float, int, Photo]] = []  # each liked photo with its share for its city
    likes = (
        Swipe.objects.filter(user=user, direction=Swipe.Direction.RIGHT)
        .select_related("photo__model_version", "photo__city")
        .order_by("id")
    )
    for swipe in likes.iterator(chunk_size=500):
        by_slug = swipe.photo.probability_by_slug()
        uniform = 1 / len(by_slug) if by_slug else 1.0
        for slug, probability in by_slug.items():
            if slug in wanted and probability > uniform:
                direct[slug].append((probability, swipe.pk, swipe.photo))
        if swipe.photo.city is not None:
            share = by_slug.get(swipe.photo.city.slug, 0.0)
            own_city.append((share, swipe.pk, swipe.photo))
    reasons = {
        slug: [
            Reason(photo, value)
            for value, _, photo in heapq.nlargest(per_city, found, key=lambda c: c[:2])
        ]
        for slug, found in direct.items()
    }
    unexplained = [slug for slug in slugs if not reasons[slug]]
    if unexplained and own_city:
        current = catalogue()
        position = {slug: i for i, slug in enumerate(current.slugs)}
        for slug in unexplained:
            if slug not in position:
                continue
            row = current.space.similarity[position[slug]]
            alike = [
                (row[position[photo.city.slug]] * share, swipe_id, photo)
                for share, swipe_id, photo in own_city
                if photo.city.slug in position and row[position[photo.city.slug]] >= LOOK_ALIKE_MIN
            ]
            reasons[slug] = [
                Reason(photo, value, look_alike=True)
                for value, _, photo in heapq.nlargest(per_city, alike, key=lambda c: c[:2])
            ]
    return reasons


def profile_ids() -> list[int]:
    return list(Profile.objects.order_by("pk").values_list("pk", flat=True))
