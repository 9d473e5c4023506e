"""Why a city ranks where it does for a person: the liked photos that raised it ("because you
liked ...") and the passed ones that lowered it."""

import heapq
from dataclasses import dataclass

from photos.models import Photo

from ..models import Swipe
from .statistics import catalog

LOOK_ALIKE_MIN = 0.5  # similarity from which a liked photo of another city explains this one


@dataclass(frozen=True)
class Reason:
    """A swiped photo and how much it moved one city's score (added for a like, took away for a
    nope); ``look_alike``: the photo is of a city that looks like this one, not of this one."""

    photo: Photo
    contribution: float
    look_alike: bool = False


def _swiped(user, direction: str):
    return (
        Swipe.objects.filter(user=user, direction=direction)
        .select_related("photo__model_version", "photo__city")
        .order_by("id")
    )


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
    direct, own_city = _strongest(_swiped(user, Swipe.Direction.RIGHT), slugs)
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


def passed_photo_reasons(*, user, slugs: list[str], per_city: int) -> dict[str, list[Reason]]:
    """For each city in ``slugs``, the passed (left-swiped) photos that took the most from its
    score (``contribution`` is what the nope took away, a positive number). The same rule as
    for likes: only photos that gave the city more than an uninformative photo would."""
    if per_city < 1 or not slugs:
        return {slug: [] for slug in slugs}
    direct, _ = _strongest(_swiped(user, Swipe.Direction.LEFT), slugs)
    return {
        slug: [
            Reason(photo, value)
            for value, _, photo in heapq.nlargest(per_city, found, key=lambda c: c[:2])
        ]
        for slug, found in direct.items()
    }


def _strongest(swipes, slugs: list[str]):
    """(per wanted city: (probability, swipe id, photo) of each swiped photo that gave it more
    than 1 / classes; every swiped photo with the share it gave its own city)."""
    wanted = set(slugs)
    direct: dict[str, list[tuple[float, int, Photo]]] = {slug: [] for slug in slugs}
    own_city: list[tuple[float, int, Photo]] = []
    for swipe in swipes.iterator(chunk_size=500):
        by_slug = swipe.photo.probability_by_slug()
        uniform = 1 / len(by_slug) if by_slug else 1.0
        for slug, probability in by_slug.items():
            if slug in wanted and probability > uniform:
                direct[slug].append((probability, swipe.pk, swipe.photo))
        if swipe.photo.city is not None:
            share = by_slug.get(swipe.photo.city.slug, 0.0)
            own_city.append((share, swipe.pk, swipe.photo))
    return direct, own_city
