"""Reads of a person's swipe history: what a new swipe needs to know about its photo and the
person's earlier swipe on it (``swipe_target``), and for the deck's undo, what the deck needs to
put an undone swipe's photo back on top (its card, while the photo is still in the deck) and how
many swipes are left to undo. The server is the source of truth, so a browser that reloaded, or
another device, undoes the same swipes in the same order."""

from dataclasses import dataclass

from django.db.models import Exists, FilteredRelation, OuterRef, Q

from core.auth import PreparedQuery
from photos import selectors as photo_selectors
from photos.models import Photo

from ..models import Swipe
from .profiles import profile_get


def undone_photo_card(*, photo_id: int) -> Photo | None:
    """The photo of a swipe that was just undone, as the deck serves it (city loaded), or None
    when it left the deck since it was swiped (rejected by an admin, superseded): its card must
    not come back, as swiping it again would be refused."""
    return photo_selectors.photo_get_in_deck(photo_id=photo_id)


def swipes_left_to_undo(*, user) -> int:
    """How many swipes this person can still undo: their swipe count (the profile's cache of
    the history, kept exact by every swipe and undo under the profile's lock)."""
    return profile_get(user=user).swipe_count


@dataclass(frozen=True)
class SwipeTarget:
    """What recording a swipe on a photo needs to know, read in one query: this person's earlier
    swipe on it (None if none), whether the photo is in the deck, and, if so, its queue position
    and its array by city slug (as ``Photo.probability_by_slug``: empty when not scored)."""

    earlier: Swipe | None
    in_deck: bool
    queue_position: int | None
    array: dict[str, float]


def _swipe_target_query(*, user_id: int, photo_id: int):
    """One row: the photo joined to the person's swipe on it and to its model version, only the
    columns a swipe uses (not the photo's analysis, nor the version's metrics); "in the deck" as
    photos.selectors.photo_deck defines it."""
    mine = FilteredRelation("swipes", condition=Q(swipes__user_id=user_id))
    in_deck = Exists(photo_selectors.photo_deck().filter(pk=OuterRef("pk")))
    return (
        Photo.objects.annotate(mine=mine, in_deck=in_deck)
        .filter(pk=photo_id)
        .order_by()
        .values_list(
            "in_deck",
            "queue_position",
            "probabilities",
            "model_version__classes",
            "mine__id",
            "mine__direction",
            "mine__created_at",
        )
    )


# Built and compiled once per process (core.auth.PreparedQuery): doing it for every swipe cost
# about as much CPU as the rest of the swipe's statements together.
_swipe_target = PreparedQuery(_swipe_target_query)


def swipe_target(*, user_id: int, photo_id: int) -> SwipeTarget | None:
    """The photo as a swipe on it sees it, or None when no such photo exists. Read it under the
    person's profile lock: then no swipe or undo of theirs can land between this read and the
    write."""
    row = _swipe_target.first(user_id=user_id, photo_id=photo_id)
    if row is None:
        return None
    in_deck, position, probabilities, classes, swipe_id, direction, created_at = row
    earlier = None
    if swipe_id is not None:
        earlier = Swipe(
            id=swipe_id,
            user_id=user_id,
            photo_id=photo_id,
            direction=direction,
            created_at=created_at,
        )
    scored = probabilities is not None and classes is not None
    array = dict(zip(classes, probabilities, strict=True)) if scored else {}
    return SwipeTarget(earlier, bool(in_deck), position, array)
