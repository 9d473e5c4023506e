"""Demo content: synthetic photos of a set of well-known cities, so a fresh clone has a deck.

SYNTHETIC: the images are drawn by ml.synthetic, and every photo is flagged ``is_synthetic``."""

import random
from collections.abc import Callable

from django.core.files.base import ContentFile

from ml.synthetic import DEMO_CITIES, city_photo_jpeg
from photos import selectors as photo_selectors
from photos.models import Photo

from .runner import photo_ingest

DEMO_SOURCE = "demo (synthetic)"


def demo_photos_create(
    *,
    city_count: int,
    per_city: int,
    seed: int = 7,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Create ``per_city`` synthetic photos for each of the first ``city_count`` demo cities, in
    a shuffled order (a deck of one city after another would be no fun), each through the
    generated photos' pipeline (validate, dedupe, score, publish). Returns the count."""
    if not 1 <= city_count <= len(DEMO_CITIES):
        raise ValueError(f"city_count must be between 1 and {len(DEMO_CITIES)}.")
    if per_city < 1:
        raise ValueError("per_city must be at least 1.")
    cities = [photo_selectors.city_get(slug=slug) for slug in DEMO_CITIES[:city_count]]
    missing = [slug for slug, city in zip(DEMO_CITIES, cities, strict=False) if city is None]
    if missing:
        raise ValueError(f"Demo cities missing from the catalog: {', '.join(missing)}.")
    jobs = [(city, index) for city in cities for index in range(per_city)]
    random.Random(seed).shuffle(jobs)
    for done, (city, index) in enumerate(jobs, start=1):
        image = ContentFile(city_photo_jpeg(city.slug, index), name=f"{city.slug}-{index:03d}.jpg")
        photo_ingest(
            image_file=image,
            city=city,
            source=DEMO_SOURCE,
            is_synthetic=True,
            pipeline=Photo.Pipeline.GENERATED,
        )
        if on_progress is not None:
            on_progress(done)
    return len(jobs)
