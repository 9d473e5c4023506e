"""Reads for people. Nothing here writes: the one cache filled on a read, the Bayesian rankers'
RankerState, is stored by users.services.ranker_state_catch_up, which the endpoints call first.

Callers import from here (``from users import selectors``); each read lives in the module of
its topic:

- ``profiles``: profiles, their ranker, the swipe history;
- ``deck``: the next photos (fixed queue or active queue);
- ``statistics``: the catalog's ranking space and a person's swipe statistics;
- ``recommendations``: ranked cities, their reasons, look-alike cities.
"""

from .deck import first_unswiped_position, photos_next
from .profiles import profile_get, profile_ids, ranker_of, scores_from_history, swipes_of
from .recommendations import (
    LOOK_ALIKE_MIN,
    RankedCity,
    Reason,
    Recommendations,
    SimilarCity,
    liked_photo_reasons,
    match_value,
    recommendations,
    similar_cities,
)
from .statistics import (
    Catalog,
    RankerStatistics,
    array_in_order,
    catalog,
    cities_key,
    ranker_statistics,
    swipe_statistics_from_history,
)

__all__ = [
    "LOOK_ALIKE_MIN",
    "Catalog",
    "RankedCity",
    "RankerStatistics",
    "Reason",
    "Recommendations",
    "SimilarCity",
    "array_in_order",
    "catalog",
    "cities_key",
    "first_unswiped_position",
    "liked_photo_reasons",
    "match_value",
    "photos_next",
    "profile_get",
    "profile_ids",
    "ranker_of",
    "ranker_statistics",
    "recommendations",
    "scores_from_history",
    "similar_cities",
    "swipe_statistics_from_history",
    "swipes_of",
]
