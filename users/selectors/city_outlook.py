"""One city as a person sees it: where it ranks for them and why (the swipes that moved it),
its most typical deck photos and its look-alike cities. Read by the city page and
GET /api/v1/recommendations/<slug>/."""

from dataclasses import dataclass

from photos import selectors as photo_selectors
from photos.models import City, Photo

from ..models import Profile
from .reasons import Reason, liked_photo_reasons, passed_photo_reasons
from .recommendations import RankedCity, Recommendations, SimilarCity, recommendations
from .recommendations import similar_cities as look_alikes
from .statistics import RankerStatistics, catalog


@dataclass(frozen=True)
class CityOutlook:
    city: City
    ranking: Recommendations | None  # the person's whole ranking; None for nobody signed in
    ranked: RankedCity | None  # this city in it; None: it has no deck photos yet
    photos: list[Photo]  # its deck photos, most typical first
    similar: list[SimilarCity]
    liked: list[Reason]  # the likes that raised it most
    passed: list[Reason]  # the nopes that lowered it most


def city_outlook(
    *,
    profile: Profile | None,
    slug: str,
    photo_limit: int,
    reason_limit: int,
    similar_limit: int,
    statistics: RankerStatistics | None = None,
) -> CityOutlook | None:
    """None for an unknown city. ``profile`` None (nobody signed in): the city alone."""
    city = photo_selectors.city_get(slug=slug)
    if city is None:
        return None
    ranking = ranked = None
    if profile is not None:
        ranking = recommendations(profile=profile, limit=None, statistics=statistics)
        ranked = next((entry for entry in ranking.cities if entry.slug == slug), None)
    user = profile.user if profile is not None and profile.pk else None
    photo_ids = catalog().typical_photo_ids(slug, photo_limit)
    return CityOutlook(
        city=city,
        ranking=ranking,
        ranked=ranked,
        photos=photo_selectors.photos_in_order(photo_ids=photo_ids),
        similar=look_alikes(slug=slug, limit=similar_limit) or [],
        liked=_reasons(liked_photo_reasons, user, slug, reason_limit),
        passed=_reasons(passed_photo_reasons, user, slug, reason_limit),
    )


def _reasons(read, user, slug: str, limit: int) -> list[Reason]:
    if user is None:
        return []
    return read(user=user, slugs=[slug], per_city=limit)[slug]
