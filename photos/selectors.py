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


def city_get_by_id(*, city_id: int) -> City | None:
    return City.objects.filter(pk=city_id).first()


def cities_by_key() -> dict[str, City]:
    """Cities by lower-case slug and by lower-case name (how imports name a city)."""
    found: dict[str, City] = {}
    for city in City.objects.all():
        found[city.slug.lower()] = city
        found[city.name.lower()] = city
    return found


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


def photo_get(*, photo_id: int) -> Photo:
    return Photo.objects.select_related("city").get(pk=photo_id)


def photos_for_training() -> QuerySet[Photo]:
    """Labelled photos the validate step stored, but rejected, duplicate (a copy would sit in
    training and validation at once) and failed ones."""
    return (
        Photo.objects.exclude(
            status__in=[Photo.Status.REJECTED, Photo.Status.DUPLICATE, Photo.Status.FAILED]
        )
        .filter(city__isnull=False)
        .exclude(image="")
        .select_related("city")
        .order_by("pk")
    )


def photo_in_pipeline(*, photo_id: int) -> Photo | None:
    """A photo still in its analysis pipeline (pending), with its city; None otherwise."""
    return (
        Photo.objects.select_related("city")
        .filter(pk=photo_id, status=Photo.Status.PENDING)
        .first()
    )


def photo_ids_stalled(*, idle_since=None, source: str | None = None) -> list[int]:
    """Photos whose pipeline stopped: failed ones, and pending ones not moved since
    ``idle_since`` (every pending one without it); only those of ``source`` when given."""
    stalled = Photo.objects.exclude(pipeline_step="").filter(
        Q(status=Photo.Status.FAILED)
        | Q(status=Photo.Status.PENDING, **({"updated_at__lt": idle_since} if idle_since else {}))
    )
    if source is not None:
        stalled = stalled.filter(source=source)
    return list(stalled.order_by("pk").values_list("pk", flat=True))


def photo_count(*, source: str | None = None, status: str | None = None) -> int:
    photos = Photo.objects.all()
    if source is not None:
        photos = photos.filter(source=source)
    if status is not None:
        photos = photos.filter(status=status)
    return photos.count()


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
    # Published implies scored and queued (the model's CHECK constraint): the status index alone
    # counts it, without reading every row's array.
    return Photo.objects.filter(status=Photo.Status.PUBLISHED).count()


def deck_is_generated() -> bool:
    """The deck holds photos drawn by the demo generator (the landing page says so)."""
    return photo_deck().filter(is_synthetic=True).exists()


def photo_image_url(*, photo: Photo, request=None) -> str:
    """Where a client can load the photo: its normalised copy (upright JPEG, capped size), which
    this site encoded itself; "" before the validate step stored one. A remote URL is never
    handed out: nobody checked what it serves now."""
    stored = photo.normalized or photo.image
    if not stored:
        return ""
    url = stored.url
    return request.build_absolute_uri(url) if request is not None else url


def photo_top_cities(*, photo: Photo, limit: int = 5) -> list[tuple[str, float]]:
    pairs = sorted(photo.probability_by_slug().items(), key=lambda item: -item[1])
    return pairs[:limit]


def photos_with_arrays(*, photo_ids: list[int] | None = None) -> QuerySet[Photo]:
    """Photos whose array a new model version must replace: in the deck, or pending past their
    pipeline's score step (those reach the deck with their array through publish)."""
    photos = Photo.objects.filter(
        status__in=[Photo.Status.PUBLISHED, Photo.Status.PENDING], probabilities__isnull=False
    )
    if photo_ids is not None:
        photos = photos.filter(pk__in=photo_ids)
    return photos.order_by("pk")


def photo_ids_with_arrays() -> list[int]:
    return list(photos_with_arrays().values_list("pk", flat=True))


@dataclass(frozen=True)
class NearestPhoto:
    photo: Photo
    distance: int  # bits between the perceptual hashes; 0 for an exact copy
    exact: bool  # the same received bytes (SHA-256)


def _hamming(hashes: list[str], target: str) -> np.ndarray:
    values = np.array([int(value, 16) for value in hashes], dtype=np.uint64)
    xor = values ^ np.uint64(int(target, 16))
    return np.unpackbits(xor.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)


def dedupe_nearest(*, photo_id: int, sha256: str, perceptual_hash: str) -> NearestPhoto | None:
    """The photo ``photo_id`` is closest to among those a duplicate may point at: photos that
    passed dedupe themselves (so the quality gate too) and are in the deck or on their way to
    it. An exact copy first; otherwise the smallest perceptual-hash distance, the oldest photo
    on ties, so the answer does not depend on the order rows come back in."""
    kept = (
        Photo.objects.exclude(pk=photo_id)
        .filter(status__in=[Photo.Status.PENDING, Photo.Status.PUBLISHED])
        .exclude(perceptual_hash="")
    )
    if sha256 and (exact := kept.filter(content_sha256=sha256).order_by("pk").first()):
        return NearestPhoto(photo=exact, distance=0, exact=True)
    rows = list(kept.order_by("pk").values_list("pk", "perceptual_hash"))
    if not rows:
        return None
    distances = _hamming([value for _, value in rows], perceptual_hash)
    best = int(np.argmin(distances))  # the first minimum: the oldest photo
    return NearestPhoto(
        photo=Photo.objects.get(pk=rows[best][0]), distance=int(distances[best]), exact=False
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


def batch_finished(*, batch) -> bool:
    """Nothing left to do: unpacked (or failed) and no photo still in the pipeline."""
    if batch.status == ImportBatch.Status.UNPACKING:
        return False
    return batch_counts(batch=batch)["queued"] == 0


def batch_list() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.all()


def photo_urls_known(*, urls: list[str]) -> set[str]:
    """Which of these image URLs some photo was imported from already."""
    return set(Photo.objects.filter(image_url__in=urls).values_list("image_url", flat=True))


def batch_get(*, batch_id: int):
    return ImportBatch.objects.filter(pk=batch_id).first()


def batch_photos(*, batch):
    return batch.photos.select_related("city", "model_version").order_by("pk")


def batch_reasons(*, batch) -> list[tuple[str, str]]:
    """(status, status_reason) of a batch's photos that left the pipeline without a place in
    the deck (rejected, duplicate, failed): what its page groups into "12 too dark"."""
    left_out = [Photo.Status.REJECTED, Photo.Status.DUPLICATE, Photo.Status.FAILED]
    photos = batch.photos.filter(status__in=left_out).order_by("pk")
    return list(photos.values_list("status", "status_reason"))
