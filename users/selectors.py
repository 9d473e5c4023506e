"""Reads for people: their deck of next photos, their swipes, recomputed scores and the
ranked cities."""

import heapq
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from photos import selectors as photo_selectors
from photos.models import Photo

from .models import Profile, Swipe


def profile_get(*, user) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def photos_next(*, user, limit: int) -> list[Photo]:
    """The next photos of this person's queue that they have not swiped, in queue order."""
    profile = profile_get(user=user)
    swiped = Swipe.objects.filter(user=user, photo=OuterRef("pk"))
    deck = photo_selectors.photo_deck(from_position=profile.queue_position)
    return list(deck.exclude(Exists(swiped))[:limit])


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


def recommendations(*, user, limit: int) -> tuple[list[RankedCity], int]:
    """Cities by running score (ties by name) with their match value, and the swipe count."""
    profile = profile_get(user=user)
    names = photo_selectors.city_names_by_slug()
    scores = {slug: profile.city_scores.get(slug, 0.0) for slug in names}
    strongest = max((abs(score) for score in scores.values()), default=0.0)
    # Rounded for ordering only, so that float noise does not break ties by name.
    ordered = sorted(scores.items(), key=lambda item: (-round(item[1], 9), names[item[0]]))
    ordered = ordered[:limit]
    ranked = [
        RankedCity(rank, slug, names[slug], score, match_value(score, strongest))
        for rank, (slug, score) in enumerate(ordered, start=1)
    ]
    return ranked, profile.swipe_count


@dataclass(frozen=True)
class Reason:
    """A liked photo and how much it added to one city's score."""

    photo: Photo
    contribution: float


def liked_photo_reasons(*, user, slugs: list[str], per_city: int) -> dict[str, list[Reason]]:
    """For each city in ``slugs``, the liked (right-swiped) photos that pushed its score up the
    most: "because you liked ...". One query over the person's likes.

    A photo counts only if it gave the city more than an uninformative photo would (more than
    1 / number of classes): a like spread thinly over every city explains none of them."""
    if per_city < 1 or not slugs:
        return {slug: [] for slug in slugs}
    wanted = set(slugs)
    candidates: dict[str, list[tuple[float, int, Photo]]] = {slug: [] for slug in slugs}
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
                candidates[slug].append((probability, swipe.pk, swipe.photo))
    return {
        slug: [
            Reason(photo, contribution)
            for contribution, _, photo in heapq.nlargest(per_city, found, key=lambda c: c[:2])
        ]
        for slug, found in candidates.items()
    }


def profile_ids() -> list[int]:
    return list(Profile.objects.order_by("pk").values_list("pk", flat=True))
