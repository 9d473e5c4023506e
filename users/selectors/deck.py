"""The deck: which photos a person sees next."""

import numpy as np
from django.conf import settings
from django.db.models import Exists, OuterRef

from photos import selectors as photo_selectors
from photos.models import Photo

from .. import rankers
from ..models import Profile, Swipe
from .profiles import ranker_of
from .statistics import RankerStatistics, catalog, statistics_for


def photos_next(
    *, profile: Profile, limit: int, statistics: RankerStatistics | None = None
) -> list[Photo]:
    """The next photos for this person, never one they swiped: the active queue's picks for a
    ranker with one (from ``statistics``, the caught-up swipe statistics of
    users.services.ranker_state_catch_up; read afresh when not given), otherwise the fixed
    global queue in order."""
    if ranker_of(profile).active_queue:
        return _active_photos_next(profile=profile, limit=limit, statistics=statistics)
    swiped = Swipe.objects.filter(user_id=profile.user_id, photo=OuterRef("pk"))
    deck = photo_selectors.photo_deck(from_position=profile.queue_position)
    return list(deck.exclude(Exists(swiped))[:limit])


def deck_size(*, profile: Profile) -> int:
    """Photos in the deck this person's next photos come from: for the active queue, the deck
    of the cached catalog it picks from (counting 50,000 rows on SQLite took ~50 ms a request);
    for the fixed queue, the deck as it is now."""
    if ranker_of(profile).active_queue:
        return catalog().deck_size
    return photo_selectors.photo_deck_size()


def _active_photos_next(
    *, profile: Profile, limit: int, statistics: RankerStatistics | None
) -> list[Photo]:
    """The active queue's next photos among a random sample of the unswiped deck. Seeded by the
    person and their swipe count, so asking twice without swiping gives the same batch."""
    current = catalog()
    swiped = list(Swipe.objects.filter(user_id=profile.user_id).values_list("photo_id", flat=True))
    unseen = np.flatnonzero(~np.isin(current.deck.photo_ids, swiped))
    rng = np.random.default_rng([profile.user_id, profile.swipe_count])
    sample_size = settings.CITYVIBES["ACTIVE_CANDIDATES"]
    if len(unseen) > sample_size:
        unseen = np.sort(rng.choice(unseen, size=sample_size, replace=False))
    sums = statistics_for(profile=profile, current=current, statistics=statistics)
    picks = rankers.photo_batch(current.space, sums, current.deck.arrays[unseen], limit, rng)
    ids = [int(current.deck.photo_ids[unseen[pick]]) for pick in picks]
    return photo_selectors.photos_in_order(photo_ids=ids)


def first_unswiped_position(*, user, from_position: int) -> int:
    """The queue position of the first deck photo from ``from_position`` on that this person has
    not swiped; past the end of the queue when there is none."""
    swiped = Swipe.objects.filter(user=user, photo=OuterRef("pk"))
    deck = photo_selectors.photo_deck(from_position=from_position).exclude(Exists(swiped))
    position = deck.values_list("queue_position", flat=True).first()
    return position if position is not None else photo_selectors.queue_end()
