"""Reads of cities and photos."""

from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Max, Q, QuerySet

from .models import City, ImportBatch, Photo


def city_list(*, search: str = "") -> QuerySet[City]:
    cities = City.objects.annotate(
        photo_count=Count("photos", filter=Q(photos__status=Photo.Status.PUBLISHED))
    )
    if search:
        cities = cities.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return cities.order_by("name")


def city_get(*, slug: str) -> City | None:
    return City.objects.filter(slug=slug).first()


def city_names_by_slug() -> dict[str, str]:
    return dict(City.objects.values_list("slug", "name"))


def photo_deck(*, from_position: int = 0) -> QuerySet[Photo]:
    """Published photos with a probability array, from a queue position on, in queue order."""
    return (
        Photo.objects.filter(
            status=Photo.Status.PUBLISHED,
            probabilities__isnull=False,
            queue_position__gte=from_position,
        )
        .select_related("city")
        .order_by("queue_position")
    )


def queue_end() -> int:
    """The position after the last one given out so far."""
    last = Photo.objects.aggregate(last=Max("queue_position"))["last"]
    return 0 if last is None else last + 1


def photo_get_in_deck(*, photo_id: int) -> Photo | None:
    return (
        Photo.objects.filter(
            pk=photo_id, status=Photo.Status.PUBLISHED, probabilities__isnull=False
        )
        .select_related("model_version", "city")
        .first()
    )


@dataclass(frozen=True)
class DeckArrays:
    """Every deck photo's probability array, re-ordered to ``slugs`` (cities the photo's model
    version does not know get 0), and the index in ``slugs`` of the city it was collected for
    (-1: none)."""

    slugs: tuple[str, ...]
    photo_ids: np.ndarray  # (n,)
    arrays: np.ndarray  # (n, len(slugs))
    labels: np.ndarray  # (n,)


def deck_arrays(*, slugs: tuple[str, ...]) -> DeckArrays:
    index = {slug: i for i, slug in enumerate(slugs)}
    rows = (
        Photo.objects.filter(
            status=Photo.Status.PUBLISHED,
            probabilities__isnull=False,
            model_version__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", "probabilities", "model_version__classes", "city__slug")
    )
    photo_ids, arrays, labels = [], [], []
    columns_by_classes: dict[tuple, np.ndarray] = {}
    for photo_id, probabilities, classes, city_slug in rows.iterator(chunk_size=2000):
        key = tuple(classes)
        columns = columns_by_classes.get(key)
        if columns is None:
            columns = columns_by_classes[key] = np.array([index.get(c, -1) for c in classes])
        array = np.zeros(len(slugs))
        known = columns >= 0
        array[columns[known]] = np.asarray(probabilities, dtype=float)[known]
        photo_ids.append(photo_id)
        arrays.append(array)
        labels.append(index.get(city_slug, -1))
    return DeckArrays(
        slugs=slugs,
        photo_ids=np.array(photo_ids, dtype=np.int64),
        arrays=np.array(arrays).reshape(len(arrays), len(slugs)),
        labels=np.array(labels, dtype=int),
    )


def photos_in_order(*, photo_ids: list[int]) -> list[Photo]:
    """The photos with these ids, in this order (ids no longer in the deck are left out)."""
    found = photo_deck().filter(pk__in=photo_ids).in_bulk()
    return [found[photo_id] for photo_id in photo_ids if photo_id in found]


def photo_deck_size() -> int:
    return photo_deck().count()


def photo_image_url(*, photo: Photo, request=None) -> str:
    """Where a client can load the photo: the stored file when there is one, else the hosted URL."""
    stored = photo.normalized or photo.image  # the normalised copy: upright, JPEG, capped size
    if stored:
        url = stored.url
        return request.build_absolute_uri(url) if request is not None else url
    return photo.image_url


def photo_top_cities(*, photo: Photo, limit: int = 5) -> list[tuple[str, float]]:
    pairs = sorted(photo.probability_by_slug().items(), key=lambda item: -item[1])
    return pairs[:limit]


def photo_ids_to_score() -> list[int]:
    """Every photo that is or may enter the deck (all but the rejected), by id."""
    return list(
        Photo.objects.exclude(status=Photo.Status.REJECTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def batch_counts(*, batch) -> dict[str, int]:
    """Where a batch's photos are: queued (still in the pipeline), done (in the deck),
    rejected, duplicate, failed. They add up to the batch's total (deleted photos aside)."""
    by_status = dict(
        batch.photos.values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    return {
        "queued": by_status.get(Photo.Status.PENDING, 0),
        "done": by_status.get(Photo.Status.PUBLISHED, 0),
        "rejected": by_status.get(Photo.Status.REJECTED, 0),
        "duplicate": by_status.get(Photo.Status.DUPLICATE, 0),
        "failed": by_status.get(Photo.Status.FAILED, 0),
    }


def batch_get(*, batch_id: int):
    return ImportBatch.objects.filter(pk=batch_id).first()


def batch_photos(*, batch):
    return batch.photos.select_related("city").order_by("pk")
