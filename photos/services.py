"""Writes for cities and photos: the catalog, creating and importing photos, publishing scored
photos into the global queue."""

import csv
import io
import math
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from cityvibes.errors import ApplicationError

from . import selectors
from .models import City, Photo

_validate_url = URLValidator(schemes=["http", "https"])
MAX_URL_LENGTH = Photo._meta.get_field("image_url").max_length


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a photo's image URL, or None when it can."""
    if len(url) > MAX_URL_LENGTH:
        return f"The URL is longer than {MAX_URL_LENGTH} characters."
    if "\x00" in url:
        return "The URL contains a NUL character."
    try:
        _validate_url(url)
    except ValidationError:
        return f"'{url[:200]}' is not a valid http(s) URL."
    return None


PROBABILITY_SUM_TOLERANCE = 1e-3


def city_catalog_sync(*, rows: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """Create missing cities and rename changed ones; returns (created, renamed)."""
    created = renamed = 0
    with transaction.atomic():
        existing = {city.slug: city for city in City.objects.all()}
        for slug, name in rows:
            city = existing.get(slug)
            if city is None:
                City.objects.create(slug=slug, name=name)
                created += 1
            elif city.name != name:
                city.name = name
                city.save(update_fields=["name"])
                renamed += 1
    return created, renamed


def photo_create(
    *,
    image_url: str = "",
    image_file: File | None = None,
    city: City | None = None,
    source: str = "",
    is_synthetic: bool = False,
) -> Photo:
    """Create a pending photo and queue its scoring once the transaction commits."""
    if not image_url and image_file is None:
        raise ApplicationError("A photo needs an image file or an image URL.")
    if image_url and (problem := url_problem(image_url)):
        raise ApplicationError(problem)
    with transaction.atomic():
        photo = Photo(image_url=image_url, city=city, source=source, is_synthetic=is_synthetic)
        if image_file is not None:
            photo.image.save(image_file.name, image_file, save=False)
        photo.save()
        # robust: a broker outage must not turn a committed upload into an error; the photo
        # stays pending and `manage.py score_photos` (ml) picks it up later.
        transaction.on_commit(lambda: _queue_scoring(photo.pk), robust=True)
    return photo


def _queue_scoring(photo_id: int) -> None:
    # Imported here: ml depends on photos, and scoring is ml's job.
    from ml.tasks import score_photo

    score_photo.delay(photo_id)


def photo_lines_parse(*, text: str) -> list[tuple[int, str, str]]:
    """(line number, url, city) for each non-empty `url,city` line; a header line is skipped."""
    rows = []
    reader = csv.reader(io.StringIO(text))
    try:
        for line_number, fields in enumerate(reader, start=1):
            fields = [field.strip() for field in fields]
            if not any(fields) or fields[0].startswith("#"):
                continue
            if line_number == 1 and [f.lower() for f in fields[:2]] == ["url", "city"]:
                continue
            rows.append((line_number, fields[0], fields[1] if len(fields) > 1 else ""))
    except csv.Error as error:
        raise ApplicationError(f"Line {reader.line_num}: not valid CSV ({error}).") from error
    return rows


def photos_import_lines(*, text: str, source: str = "bulk import") -> list[Photo]:
    """Import `url,city` lines all or nothing.

    Every line is checked first (valid http(s) URL, known city by slug or name, not a duplicate
    in the batch or of a stored photo). Any error raises ApplicationError whose ``details["lines"]``
    maps each bad line number to its message, and nothing is stored.
    """
    rows = photo_lines_parse(text=text)
    if not rows:
        raise ApplicationError("No `url,city` lines found.")
    cities_by_key: dict[str, City] = {}
    for city in City.objects.all():
        cities_by_key[city.slug.lower()] = city
        cities_by_key[city.name.lower()] = city
    candidate_urls = [url for _, url, _ in rows if url_problem(url) is None]
    known_urls = set(
        Photo.objects.filter(image_url__in=candidate_urls).values_list("image_url", flat=True)
    )
    errors: dict[str, str] = {}
    seen_urls: dict[str, int] = {}
    accepted: list[tuple[str, City | None]] = []
    for line_number, url, city_key in rows:
        if problem := url_problem(url):
            errors[str(line_number)] = problem
            continue
        city = cities_by_key.get(city_key.lower()) if city_key else None
        if city_key and city is None:
            errors[str(line_number)] = f"Unknown city '{city_key[:100]}' (use a slug or a name)."
        elif url in known_urls:
            errors[str(line_number)] = "This URL was imported before."
        elif url in seen_urls:
            errors[str(line_number)] = f"Same URL as line {seen_urls[url]}."
        else:
            seen_urls[url] = line_number
            accepted.append((url, city))
    if errors:
        raise ApplicationError(
            f"{len(errors)} of {len(rows)} lines have errors; nothing was imported.",
            details={"lines": errors},
        )
    with transaction.atomic():
        return [photo_create(image_url=url, city=city, source=source) for url, city in accepted]


def _validated_probabilities(probabilities: Sequence[float], class_count: int) -> list[float]:
    values = [float(value) for value in probabilities]
    if len(values) != class_count:
        raise ValueError(
            f"Expected {class_count} probabilities (one per class), got {len(values)}."
        )
    if any(not math.isfinite(value) or value < 0 for value in values):
        raise ValueError("Probabilities must be finite and non-negative.")
    if abs(sum(values) - 1.0) > PROBABILITY_SUM_TOLERANCE:
        raise ValueError(f"Probabilities must sum to 1, not {sum(values):.6f}.")
    return values


def photo_record_scores(*, photo_id: int, probabilities: Sequence[float], model_version) -> Photo:
    """Store a model version's probability array on a photo and publish it if it was pending.

    Publishing gives the photo the next free position at the end of the global queue."""
    photos_record_scores(scores={photo_id: probabilities}, model_version=model_version)
    return Photo.objects.get(pk=photo_id)


def photos_record_scores(*, scores: dict[int, Sequence[float]], model_version) -> int:
    """``photo_record_scores`` for a batch ({photo id: array}) in one transaction (one commit
    instead of one per photo). Every array is checked before anything is written. Returns how
    many photos were updated (deleted ones are skipped)."""
    validated = {
        photo_id: _validated_probabilities(probabilities, len(model_version.classes))
        for photo_id, probabilities in scores.items()
    }
    now = timezone.now()
    with transaction.atomic():
        photos = list(Photo.objects.select_for_update().filter(pk__in=validated).order_by("pk"))
        rescored = []
        for photo in photos:
            photo.probabilities = validated[photo.pk]
            photo.model_version = model_version
            if photo.status == Photo.Status.PENDING:
                photo.status = Photo.Status.PUBLISHED
                photo.status_reason = ""
                _save_with_next_queue_position(photo)
            else:
                photo.updated_at = now
                rescored.append(photo)
        Photo.objects.bulk_update(rescored, ["probabilities", "model_version", "updated_at"])
    return len(photos)


def _save_with_next_queue_position(photo: Photo, attempts: int = 5) -> None:
    """Concurrent publishers can pick the same position; the unique index rejects the loser,
    which takes the next one."""
    for attempt in range(attempts):
        photo.queue_position = selectors.queue_end()
        try:
            with transaction.atomic():
                photo.save()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise


def photo_mark_pending(*, photo_id: int, reason: str) -> None:
    Photo.objects.filter(pk=photo_id, status=Photo.Status.PENDING).update(status_reason=reason)


def photo_reject(*, photo_id: int, reason: str) -> None:
    """Take a photo out of the deck (it keeps its swipes, which stay in people's history)."""
    Photo.objects.filter(pk=photo_id).update(status=Photo.Status.REJECTED, status_reason=reason)
