"""Ranked cities: a person's recommendations with the number they are shown (users/match.py),
and the cities that look alike.

Only cities with deck photos are ranked: nobody could have shown a taste for a city they were
never shown, and any score for it would be the prior's guess. The others are listed apart
(``not_in_deck``). The list is sorted by the number shown, then by the finer value behind it."""

from dataclasses import dataclass

import numpy as np

from photos import selectors as photo_selectors

from .. import match, rankers
from ..models import Profile, Swipe
from .profiles import ranker_of
from .statistics import RankerStatistics, catalog, statistics_for

CHANCE = "chance"  # the Bayesian rankers' posterior predictive chance of a like
LEAN = "lean"  # the baseline's 1-99 lean of the running score


@dataclass(frozen=True)
class RankedCity:
    rank: int
    slug: str
    name: str
    score: float  # the ranker's score
    match: int  # 0-100: the chance in % (CHANCE) or the lean (LEAN)
    confidence: str  # one of match.CONFIDENCE_LABELS
    chance: float | None = None  # CHANCE only, with its 80 % credible interval
    chance_low: float | None = None
    chance_high: float | None = None
    photo_id: int | None = None  # the most typical deck photo of the city


@dataclass(frozen=True)
class Recommendations:
    cities: list[RankedCity]  # the first ``limit`` of the ranking
    swipe_count: int
    like_count: int
    ranker: str
    match_kind: str  # CHANCE or LEAN
    base_chance: float | None  # CHANCE: the chance for an average photo (the like-rate)
    city_count: int  # cities in the ranking: those with deck photos
    not_in_deck: list[tuple[str, str]]  # (slug, name) of the catalog's other cities, by name


def recommendations(
    *, profile: Profile, limit: int | None, statistics: RankerStatistics | None = None
) -> Recommendations:
    """The person's ranking by their ranker (``limit`` None: every ranked city). Bayesian
    rankers: by the chance from ``statistics`` (the caught-up swipe statistics of
    users.services.ranker_state_catch_up; read afresh when not given). Baseline: by the
    running scores, shown as the lean."""
    names = photo_selectors.city_names_by_slug()
    current = catalog(names=names)
    ranker = ranker_of(profile)
    deck_slugs = [slug for slug in current.slugs if current.in_deck(slug) and slug in names]
    if ranker.bayesian and deck_slugs:
        sums = statistics_for(profile=profile, current=current, statistics=statistics)
        rows, like_count, base = _by_chance(current, sums)
        kind = CHANCE
    else:
        (rows, like_count), base, kind = _by_lean(profile, current.slugs), None, LEAN
    in_deck = set(deck_slugs)
    ordered = sorted(
        (row for row in rows if row["slug"] in in_deck),
        key=lambda row: (-row["match"], -round(row["fine"], 9), names[row["slug"]]),
    )
    chosen = ordered if limit is None else ordered[:limit]
    ranked = [
        RankedCity(
            rank=rank,
            slug=row["slug"],
            name=names[row["slug"]],
            score=row["score"],
            match=row["match"],
            confidence=row["confidence"],
            chance=row.get("chance"),
            chance_low=row.get("low"),
            chance_high=row.get("high"),
            photo_id=next(iter(current.typical_photo_ids(row["slug"], 1)), None),
        )
        for rank, row in enumerate(chosen, start=1)
    ]
    not_in_deck = sorted(
        ((slug, name) for slug, name in names.items() if slug not in in_deck),
        key=lambda pair: pair[1],
    )
    return Recommendations(
        cities=ranked,
        swipe_count=profile.swipe_count,
        like_count=like_count,
        ranker=ranker.name,
        match_kind=kind,
        base_chance=base,
        city_count=len(ordered),
        not_in_deck=not_in_deck,
    )


def _by_chance(current, sums: rankers.SwipeStatistics):
    scores = rankers.bayesian_city_scores(current.space, sums)
    outlook = match.chance_outlook(current.space, sums)
    rows = [
        {
            "slug": slug,
            "score": float(scores[i]),
            "chance": float(outlook.chance[i]),
            "low": float(outlook.low[i]),
            "high": float(outlook.high[i]),
            "match": int(np.rint(100 * outlook.chance[i])),
            "fine": float(outlook.chance[i]),
            "confidence": confidence,
        }
        for i, (slug, confidence) in enumerate(
            zip(current.slugs, outlook.confidence(), strict=True)
        )
    ]
    return rows, int(outlook.likes), float(outlook.base_chance)


def _by_lean(profile: Profile, slugs: tuple[str, ...]):
    """The baseline's rows and the like count, from one read of the swipes: the evidence behind
    each city is the probability mass it had in every photo the person swiped."""
    scores = np.array([profile.city_scores.get(slug, 0.0) for slug in slugs])
    position = {slug: i for i, slug in enumerate(slugs)}
    evidence = np.zeros(len(slugs))
    likes = 0
    swipes = Swipe.objects.filter(user_id=profile.user_id) if profile.pk else Swipe.objects.none()
    rows = swipes.values_list("direction", "photo__probabilities", "photo__model_version__classes")
    for direction, probabilities, classes in rows.iterator(chunk_size=1000):
        likes += direction == Swipe.Direction.RIGHT
        for slug, probability in zip(classes or (), probabilities or (), strict=False):
            if slug in position:
                evidence[position[slug]] += probability
    leans = match.lean(scores)
    found = [
        {
            "slug": slug,
            "score": float(scores[i]),
            "match": int(leans[i]),
            "fine": float(scores[i]),
            "confidence": match.confidence_from_evidence(float(evidence[i])),
        }
        for i, slug in enumerate(slugs)
    ]
    return found, likes


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
    if not current.in_deck(slug):
        return None if photo_selectors.city_get(slug=slug) is None else []
    index = current.slugs.index(slug)
    names = photo_selectors.city_names_by_slug()
    similarity = current.space.similarity[index]
    others = [i for i in np.argsort(-similarity, kind="stable") if i != index]
    return [
        SimilarCity(current.slugs[i], names.get(current.slugs[i], ""), float(similarity[i]))
        for i in others
        if current.photo_counts[i] > 0
    ][:limit]
