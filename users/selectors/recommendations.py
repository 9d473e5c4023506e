"""Ranked cities: a person's recommendations, the reasons behind them ("because you liked")
and the cities that look alike."""

import heapq
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from photos import selectors as photo_selectors
from photos.models import Photo

from .. import rankers
from ..models import Profile, Swipe
from .profiles import ranker_of
from .statistics import RankerStatistics, catalog, statistics_for

LOOK_ALIKE_MIN = 0.5  # similarity from which a liked photo of another city explains this one


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
    city_count: int  # the cities the ranking covers: every city in the catalog


def recommendations(
    *, profile: Profile, limit: int, statistics: RankerStatistics | None = None
) -> Recommendations:
    """Cities by this person's ranker's score (ties by name) with their match value: the
    running scores for the baseline, the Bayesian model's predicted likes otherwise (from
    ``statistics``, the caught-up swipe statistics of users.services.ranker_state_catch_up;
    read afresh when not given). The Bayesian rankers put cities without deck photos last:
    nobody could have shown a taste for them, their score is only the prior's guess."""
    names = photo_selectors.city_names_by_slug()
    ranker = ranker_of(profile)
    without_photos: set[str] = set()
    if not ranker.bayesian or not names:
        scores = {slug: profile.city_scores.get(slug, 0.0) for slug in names}
    else:
        current = catalog()
        sums = statistics_for(profile=profile, current=current, statistics=statistics)
        values = rankers.bayesian_city_scores(current.space, sums)
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
    return Recommendations(ranked, profile.swipe_count, ranker.name, len(names))


@dataclass(frozen=True)
class SimilarCity:
    slug: str
    name: str
    similarity: float


def similar_cities(*, slug: str, limit: int) -> list[SimilarCity] | None:
    """The cities that look most like this one to the CNN (cosine similarity of their photos'
    mean log-probability arrays), most similar first; None for an unknown city. Cities without
    photos in the deck have no look to compare and are left out."""
    current = catalog()
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
        current = catalog()
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
