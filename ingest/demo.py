"""Demo content: synthetic photos of a set of well-known cities, so a fresh clone has a deck.

SYNTHETIC: the images are drawn by ml.synthetic, and every photo is flagged ``is_synthetic``."""

import collections
import random
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
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
    drawings = _drawn((city.slug, index) for city, index in jobs)
    for done, ((city, index), jpeg) in enumerate(zip(jobs, drawings, strict=True), start=1):
        image = ContentFile(jpeg, name=f"{city.slug}-{index:03d}.jpg")
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


def _drawn(jobs: Iterable[tuple[str, int]], ahead: int = 4) -> Iterator[bytes]:
    """The JPEG of each (slug, index), in order, drawn a few photos ahead on two threads while
    the caller runs the pipeline: drawing a photo at full size costs about as much as its
    pipeline, and NumPy and Pillow release the GIL for their work."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo-draw") as pool:
        pending: collections.deque = collections.deque()
        for slug, index in jobs:
            pending.append(pool.submit(city_photo_jpeg, slug, index, settings.DEMO_PHOTO_WIDTH))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
