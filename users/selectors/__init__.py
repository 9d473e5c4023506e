"""Reads for people. Nothing here writes: the one cache filled on a read, the Bayesian rankers'
RankerState, is stored by users.services.ranker_state_catch_up, which the endpoints call first.

Callers import from here (``from users import selectors``); each read lives in the module of
its topic:

- ``profiles``: profiles, their ranker, the swipe history;
- ``deck``: the next photos (fixed queue or active queue);
- ``statistics``: the catalog's ranking space and a person's swipe statistics;
- ``recommendations``: ranked cities with the number shown for each, look-alike cities;
- ``reasons``: the swipes that moved a city ("because you liked ...");
- ``city_outlook``: one city for one person (the city page);
- ``vibe``: the attributes a person leans to ("your vibe"), the cities' dominant attributes.
"""

from .city_outlook import CityOutlook, city_outlook
from .deck import deck_size, first_unswiped_position, photos_next
from .profiles import (
    profile_by_share_token,
    profile_get,
    profile_ids,
    ranker_of,
    ranking_share_of,
    scores_from_history,
    swipes_of,
)
from .reasons import LOOK_ALIKE_MIN, Reason, liked_photo_reasons, passed_photo_reasons
from .recommendations import (
    CHANCE,
    LEAN,
    RankedCity,
    Recommendations,
    SimilarCity,
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
from .vibe import city_attributes, vibe_of

__all__ = [
    "CHANCE",
    "LEAN",
    "LOOK_ALIKE_MIN",
    "Catalog",
    "CityOutlook",
    "RankedCity",
    "RankerStatistics",
    "Reason",
    "Recommendations",
    "SimilarCity",
    "array_in_order",
    "catalog",
    "cities_key",
    "city_attributes",
    "city_outlook",
    "deck_size",
    "first_unswiped_position",
    "liked_photo_reasons",
    "passed_photo_reasons",
    "photos_next",
    "profile_by_share_token",
    "profile_get",
    "profile_ids",
    "ranker_of",
    "ranker_statistics",
    "ranking_share_of",
    "recommendations",
    "scores_from_history",
    "similar_cities",
    "swipe_statistics_from_history",
    "swipes_of",
    "vibe_of",
]
