"""Writes for cities and photos: the catalog, creating and importing photos, publishing scored
photos into the global queue."""

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from cityvibes import metrics
from cityvibes.errors import ApplicationError

from . import pipeline as pipeline_steps
from . import selectors
from .models import City, ImportBatch, Photo

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
    batch: ImportBatch | None = None,
    pipeline: bool = False,
) -> Photo:
    """Create a pending photo and, once the transaction commits, queue its scoring, or with
    ``pipeline`` the whole analysis pipeline (fetch, validate, dedupe, quality, score, publish)."""
    if not image_url and image_file is None:
        raise ApplicationError("A photo needs an image file or an image URL.")
    if image_url and (problem := url_problem(image_url)):
        raise ApplicationError(problem)
    with transaction.atomic():
        photo = Photo(
            image_url=image_url, city=city, source=source, is_synthetic=is_synthetic, batch=batch
        )
        if pipeline:
            photo.pipeline_step = pipeline_steps.step_names()[0]
        if image_file is not None:
            photo.image.save(image_file.name, image_file, save=False)
        photo.save()
        # robust: a broker outage must not turn a committed upload into an error; the photo
        # stays pending and `manage.py score_photos` / `resume_pipeline` pick it up later.
        if pipeline:
            transaction.on_commit(lambda: _queue_step(photo.pk, photo.pipeline_step), robust=True)
        else:
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


def photos_import_lines(
    *, text: str, source: str = "bulk import", user=None, label: str = ""
) -> ImportBatch:
    """Import `url,city` lines all or nothing, as one batch through the analysis pipeline.

    Every line is checked first (valid http(s) URL, known city by slug or name, not a duplicate
    in the batch or of a stored photo). Any error raises ApplicationError whose ``details["lines"]``
    maps each bad line number to its message, and nothing is stored.
    """
    rows = photo_lines_parse(text=text)
    if not rows:
        raise ApplicationError("No `url,city` lines found.")
    cities_by_key = _cities_by_key()
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
        batch = ImportBatch.objects.create(
            source=ImportBatch.Source.URLS,
            label=label or f"{len(accepted)} URLs",
            created_by=user,
            total=len(accepted),
        )
        for url, city in accepted:
            photo_create(image_url=url, city=city, source=source, batch=batch, pipeline=True)
    return batch


def photos_import_request(
    *, user, urls=None, lines: str = "", file=None, city: str = ""
) -> ImportBatch:
    """One import from the API: URLs, `url,city` lines, or a file (an image or a zip)."""
    given = [name for name, value in (("urls", urls), ("lines", lines), ("file", file)) if value]
    if len(given) != 1:
        raise ApplicationError("Send exactly one of `urls`, `lines` or `file`.")
    target = None
    if city:
        target = _cities_by_key().get(city.strip().lower())
        if target is None:
            raise ApplicationError(f"Unknown city '{city[:100]}' (use a slug or a name).")
    if urls:
        text = "\n".join(f"{url},{target.slug if target else ''}" for url in urls)
        return photos_import_lines(text=text, source="api import", user=user)
    if lines:
        return photos_import_lines(text=lines, source="api import", user=user)
    if file.name.lower().endswith(".zip"):
        return photos_import_zip(archive=file, city=target, user=user)
    if file.size > settings.PHOTO_FETCH_MAX_BYTES:
        raise ApplicationError(
            f"The file is over the {settings.PHOTO_FETCH_MAX_BYTES:,} byte limit."
        )
    return photos_import_files(
        files=[(file.name, file.read(), target)], source=ImportBatch.Source.UPLOAD, user=user
    )


def _cities_by_key() -> dict[str, City]:
    """Cities by lower-case slug and by lower-case name."""
    found: dict[str, City] = {}
    for city in City.objects.all():
        found[city.slug.lower()] = city
        found[city.name.lower()] = city
    return found


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic")


def photos_import_files(
    *,
    files: list[tuple[str, bytes, City | None]],
    source: ImportBatch.Source,
    user=None,
    label: str = "",
) -> ImportBatch:
    """Import uploaded image files ([(name, content, city)]) as one batch through the
    pipeline (which checks that each really is an image)."""
    if not files:
        raise ApplicationError("No image files to import.")
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            source=source, label=label or f"{len(files)} files", created_by=user, total=len(files)
        )
        for name, content, city in files:
            photo_create(
                image_file=ContentFile(content, name=Path(name).name[-100:] or "upload"),
                city=city,
                source=f"import ({source})",
                batch=batch,
                pipeline=True,
            )
    return batch


def photos_import_zip(*, archive, city: City | None = None, user=None) -> ImportBatch:
    """Import the images of a zip archive. An entry under a folder named after a city (slug or
    name) gets that city, others get ``city``. The archive is checked before anything is
    stored: entry count, sizes (zip bombs), unknown city folders."""
    import zipfile

    limits = settings.PHOTO_IMPORT_LIMITS
    try:
        with zipfile.ZipFile(archive) as bundle:
            entries = [
                info
                for info in bundle.infolist()
                if not info.is_dir()
                and not Path(info.filename).name.startswith(".")
                and "__MACOSX" not in info.filename
                and info.filename.lower().endswith(IMAGE_SUFFIXES)
            ]
            if not entries:
                raise ApplicationError("The zip archive holds no image files.")
            if len(entries) > limits["max_files"]:
                raise ApplicationError(
                    f"The archive holds {len(entries)} images; the limit is {limits['max_files']}."
                )
            total = sum(info.file_size for info in entries)
            if total > limits["max_zip_bytes"]:
                raise ApplicationError(
                    f"The archive unpacks to {total:,} bytes; the limit is "
                    f"{limits['max_zip_bytes']:,}."
                )
            cities = _cities_by_key()
            files, unknown = [], set()
            for info in entries:
                if info.file_size > settings.PHOTO_FETCH_MAX_BYTES:
                    raise ApplicationError(
                        f"{info.filename} is {info.file_size:,} bytes, over the "
                        f"{settings.PHOTO_FETCH_MAX_BYTES:,} byte limit per photo."
                    )
                folder = Path(info.filename).parent.name
                entry_city = cities.get(folder.lower()) if folder else city
                if folder and entry_city is None:
                    unknown.add(folder)
                    continue
                with bundle.open(info) as handle:
                    content = handle.read(settings.PHOTO_FETCH_MAX_BYTES + 1)
                files.append((info.filename, content, entry_city))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise ApplicationError(f"Not a readable zip archive: {error}") from error
    if unknown:
        raise ApplicationError(
            f"Folders that are not cities of the catalog: {', '.join(sorted(unknown)[:20])}."
        )
    return photos_import_files(
        files=files, source=ImportBatch.Source.ZIP, user=user, label=getattr(archive, "name", "")
    )


def photos_import_folder(*, root: Path, user=None) -> ImportBatch:
    """Import a folder tree ``<city>/<image>`` (as the original scraper wrote it)."""
    if not root.is_dir():
        raise ApplicationError(f"{root} is not a folder.")
    cities = _cities_by_key()
    files, unknown = [], []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        city = cities.get(folder.name.lower())
        if city is None:
            unknown.append(folder.name)
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                files.append((path.name, path.read_bytes(), city))
    if unknown:
        raise ApplicationError(
            f"Folders that are not cities of the catalog: {', '.join(unknown[:20])}."
        )
    return photos_import_files(
        files=files, source=ImportBatch.Source.FOLDER, user=user, label=str(root)[-200:]
    )


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


def photos_record_scores(
    *, scores: dict[int, Sequence[float]], model_version, publish: bool = True
) -> int:
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
            if photo.status == Photo.Status.PENDING and publish:
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


def photo_publish(*, photo_id: int) -> int:
    """Put a scored, pending photo into the deck (the next queue position); idempotent.
    Returns its queue position."""
    with transaction.atomic():
        photo = Photo.objects.select_for_update().get(pk=photo_id)
        if photo.status == Photo.Status.PUBLISHED:
            return photo.queue_position
        if photo.probabilities is None:
            raise ValueError(f"Photo {photo_id} has no probability array; it cannot be published.")
        photo.status = Photo.Status.PUBLISHED
        photo.status_reason = ""
        _save_with_next_queue_position(photo)
    return photo.queue_position


def photo_store_file(*, photo_id: int, field: str, name: str, content: bytes) -> str:
    """Store ``content`` as the photo's file ``field`` (image, normalized, thumbnail), replacing
    what was there: a step that runs twice leaves one file, not two."""
    photo = Photo.objects.get(pk=photo_id)
    current = getattr(photo, field)
    if current:
        current.delete(save=False)
    current.save(name, ContentFile(content), save=False)
    Photo.objects.filter(pk=photo_id).update(**{field: current.name})
    return current.name


def photo_record_hashes(
    *, photo_id: int, sha256: str, perceptual_hash: str, duplicate_of_id: int | None
) -> None:
    fields = {"content_sha256": sha256, "perceptual_hash": perceptual_hash}
    if duplicate_of_id is not None:
        fields |= {
            "duplicate_of_id": duplicate_of_id,
            "status": Photo.Status.DUPLICATE,
            "status_reason": f"Duplicate of photo #{duplicate_of_id}.",
        }
    Photo.objects.filter(pk=photo_id).update(**fields)


# ---- the analysis pipeline -----------------------------------------------------------------


def _queue_step(photo_id: int, step: str) -> None:
    from .tasks import run_pipeline_step

    run_pipeline_step.apply_async((photo_id, step), queue=pipeline_steps.queue_for(step))


def pipeline_run_step(*, photo_id: int, step: str) -> str | None:
    """Run one step of one photo and hand on to the next; returns the next step's name ("" at
    the end), or None when there was nothing to do (the photo is gone, or this step ran
    already: a redelivered task). TransientStepError propagates, for the task to retry."""
    import time

    photo = Photo.objects.select_related("city").filter(pk=photo_id).first()
    if photo is None:
        return None
    if photo.pipeline_step != step:
        # A redelivered task (its worker died after recording the step). If that worker died
        # before handing on, the next step was never queued: queue it again (steps are
        # idempotent, so a second run of an already queued step is harmless).
        names = pipeline_steps.step_names()
        if (
            photo.pipeline_step in names
            and step in names
            and names.index(photo.pipeline_step) > names.index(step)
        ):
            _queue_step(photo_id, photo.pipeline_step)
        return None
    function = pipeline_steps.step_function(step)
    started = time.perf_counter()
    try:
        output, stop = function(photo), None
    except pipeline_steps.StopPipeline as signal:
        output, stop = signal.output, signal
    seconds = time.perf_counter() - started
    metrics.PIPELINE_STEPS.labels(step=step, outcome="stopped" if stop else "next").observe(seconds)
    record = {
        "output": output,
        "duration_ms": round(seconds * 1000, 1),
        "error": stop.reason if stop else None,
    }
    following = "" if stop else pipeline_steps.next_step(step)
    with transaction.atomic():
        locked = Photo.objects.select_for_update().get(pk=photo_id)
        if locked.pipeline_step != step:
            return None  # a concurrent run of the same step recorded it first
        locked.analysis = {**locked.analysis, step: record}
        locked.pipeline_step = following
        fields = ["analysis", "pipeline_step", "updated_at"]
        if stop and locked.status != Photo.Status.PUBLISHED:
            locked.status, locked.status_reason = stop.status, stop.reason[:2000]
            fields += ["status", "status_reason"]
        locked.save(update_fields=fields)
        if following:
            transaction.on_commit(lambda: _queue_step(photo_id, following), robust=True)
    return following


def pipeline_fail(*, photo_id: int, step: str, error: str) -> None:
    """A step kept failing: the photo is marked failed (out of the deck) with the reason; the
    step stays recorded as next, so `resume_pipeline` can run it again."""
    with transaction.atomic():
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is None or photo.pipeline_step != step:
            return
        photo.analysis = {
            **photo.analysis,
            step: {"output": {}, "duration_ms": None, "error": error},
        }
        photo.status = Photo.Status.FAILED
        photo.status_reason = f"Step '{step}' failed: {error}"[:2000]
        photo.save(update_fields=["analysis", "status", "status_reason", "updated_at"])


def pipeline_resume(*, photo_ids: list[int]) -> int:
    """Queue the pending step of failed or stalled photos again; returns how many."""
    resumed = 0
    with transaction.atomic():
        for photo in (
            Photo.objects.select_for_update().filter(pk__in=photo_ids).exclude(pipeline_step="")
        ):
            if photo.status == Photo.Status.FAILED:
                photo.status, photo.status_reason = Photo.Status.PENDING, ""
                photo.save(update_fields=["status", "status_reason", "updated_at"])
            step = photo.pipeline_step
            transaction.on_commit(lambda p=photo.pk, s=step: _queue_step(p, s), robust=True)
            resumed += 1
    return resumed
