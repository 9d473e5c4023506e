""" "Your vibe" and the cities' dominant attributes: reads of the swipes and of what the
attribute model said about the photos (photos.predictions). Nothing here writes; the estimate
itself is users/vibe.py."""

import threading
import time

import numpy as np
from django.conf import settings

from photos.predictions import city_prediction_means, photo_predictions

from .. import vibe
from ..models import Swipe

DOMINANT_COUNT = 3  # attributes shown per city
DOMINANT_MIN = 0.5  # mean probability over the city's deck photos to count as dominant


def vibe_of(*, user) -> vibe.Vibe:
    """The person's vibe from every swipe whose photo the attribute model described (the
    attributes all of those photos have a probability for)."""
    swipes = list(Swipe.objects.filter(user_id=user.pk).values_list("photo_id", "direction"))
    if not swipes:
        return vibe.empty_vibe(reason=vibe.REASON_FEW_SWIPES)
    described = photo_predictions(
        photo_ids=[photo_id for photo_id, _ in swipes], kind=vibe.ATTRIBUTES_KIND
    )
    if not described:
        return vibe.empty_vibe(reason=vibe.REASON_NO_ATTRIBUTES)
    labels = sorted(set.intersection(*(set(scores) for scores in described.values())))
    used = [(described.get(photo_id), direction) for photo_id, direction in swipes]
    used = [(scores, direction) for scores, direction in used if scores is not None]
    X = np.array([[scores[label] for label in labels] for scores, _ in used], dtype=float)
    y = np.array([1.0 if d == Swipe.Direction.RIGHT else -1.0 for _, d in used])
    return vibe.vibe_estimate(attributes=labels, X=X.reshape(len(used), len(labels)), y=y)


_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, list[str]]]] = {}


def city_attributes() -> dict[str, list[str]]:
    """{city slug: its dominant attributes}: up to DOMINANT_COUNT labels whose mean probability
    over the city's deck photos is at least DOMINANT_MIN, the largest first. Built from the
    database at most every RANKING_SPACE_TTL seconds per process, like the catalog."""
    with _lock:
        cached = _cache.get("current")
        if cached and time.monotonic() - cached[0] < settings.CITYVIBES["RANKING_SPACE_TTL"]:
            return cached[1]
        means = city_prediction_means(kind=vibe.ATTRIBUTES_KIND)
        built = {slug: dominant_attributes(labels) for slug, labels in means.items()}
        _cache["current"] = (time.monotonic(), built)
        return built


def dominant_attributes(means: dict[str, float]) -> list[str]:
    ordered = sorted(means.items(), key=lambda item: (-item[1], item[0]))
    return [label for label, mean in ordered if mean >= DOMINANT_MIN][:DOMINANT_COUNT]
