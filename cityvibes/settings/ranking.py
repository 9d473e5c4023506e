"""The deck and the rankers: batch sizes, the ranker, the ranking space's cache."""

from .environment import env

CITYVIBES = {
    # The most photos one "next photos" request may return.
    "NEXT_PHOTOS_MAX": 50,
    # How many of the top cities get "because you liked ..." photos in the recommendations.
    "REASON_CITIES": 5,
    # Absolute difference above which a running score counts as drifted from the swipe history.
    "SCORE_DRIFT_TOLERANCE": 1e-9,
    # How cities are ranked and which photo comes next, unless a profile says otherwise: a name
    # of users/rankers.py's registry (a system check refuses any other): "baseline" (the
    # original add/subtract rule on the fixed global queue), "bayesian" (the Bayesian preference
    # model on the fixed queue) or "bayesian-active" (the Bayesian model with the active queue).
    # See docs/EVALUATION.md.
    "RANKER": env.str("CITYVIBES_RANKER", default="bayesian-active"),
    # Seconds a process reuses the catalog's ranking space (mean array, city prototypes and
    # look-alike similarity) before reading the photo arrays again.
    "RANKING_SPACE_TTL": env.int("CITYVIBES_RANKING_SPACE_TTL", default=300),
    # Unswiped photos the active queue considers per request (a random sample of the deck).
    "ACTIVE_CANDIDATES": env.int("CITYVIBES_ACTIVE_CANDIDATES", default=500),
}
