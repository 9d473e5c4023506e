"""Reads of a person's swipe history for the deck's undo: what the deck needs to put an undone
swipe's photo back on top (its card, while the photo is still in the deck) and how many swipes
are left to undo. The server is the source of truth, so a browser that reloaded, or another
device, undoes the same swipes in the same order."""

from photos import selectors as photo_selectors
from photos.models import Photo

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
