"""How photos are imported: URL lists and CSV lines, single uploads, zip archives (see
ingest/archives.py) and folder trees. Each import is one ImportBatch whose photos go through the
analysis pipeline.

Everything here is hostile input: URL rows are checked all or nothing, with the fetcher's own
parser, before anything is stored."""

import csv
import io
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction

from core.errors import ApplicationError
from photos import images, records, selectors
from photos.models import City, ImportBatch

from . import archives, urls, zip_import
from .runner import photo_ingest

# ---- URL lists and CSV ------------------------------------------------------------------------


def photo_lines_parse(*, text: str) -> list[tuple[int, str, str]]:
    """(line number, url, city) for each non-empty `url,city` line; a header line is skipped."""
    rows = []
    reader = csv.reader(io.StringIO(text))
    try:
        for line_number, fields in enumerate(reader, start=1):
            fields = [value.strip() for value in fields]
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
    """Import `url,city` lines all or nothing, as one batch through the analysis pipeline (see
    ``photos_import_rows``)."""
    rows = photo_lines_parse(text=text)
    if not rows:
        raise ApplicationError("No `url,city` lines found.")
    return photos_import_rows(rows=rows, source=source, user=user, label=label)


def photos_import_rows(
    *, rows: list[tuple[int, str, str]], source: str, user=None, label: str = ""
) -> ImportBatch:
    """Import (line number, url, city) rows all or nothing, as one batch through the pipeline.

    Every row is checked first (an http(s) URL the fetcher would connect to, known city by slug
    or name, not a duplicate in the batch or of a stored photo). Any error raises
    ApplicationError whose ``details["lines"]`` maps each bad line number to its message, and
    nothing is stored.
    """
    cities_by_key = selectors.cities_by_key()
    candidate_urls = [url for _, url, _ in rows if urls.url_problem(url) is None]
    known_urls = selectors.photo_urls_known(urls=candidate_urls)
    errors: dict[str, str] = {}
    seen_urls: dict[str, int] = {}
    accepted: list[tuple[str, City | None]] = []
    for line_number, url, city_key in rows:
        if problem := urls.url_problem(url):
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
        batch = records.batch_create(
            source=ImportBatch.Source.URLS,
            label=label or f"{len(accepted)} URLs",
            user=user,
            total=len(accepted),
        )
        for url, city in accepted:
            photo_ingest(image_url=url, city=city, source=source, batch=batch)
    return batch


# ---- one request: URLs, lines or a file -------------------------------------------------------


def photos_import_request(
    *, user, urls=None, lines: str = "", file=None, city: str = ""
) -> ImportBatch:
    """One import from the API or the admin page: URLs, `url,city` lines, or a file (a zip
    archive, recognised by its bytes, or a single image)."""
    given = [name for name, value in (("urls", urls), ("lines", lines), ("file", file)) if value]
    if len(given) != 1:
        raise ApplicationError("Send exactly one of `urls`, `lines` or `file`.")
    target = None
    if city:
        target = selectors.cities_by_key().get(city.strip().lower())
        if target is None:
            raise ApplicationError(f"Unknown city '{city[:100]}' (use a slug or a name).")
    if urls:  # each URL as it is: never pasted into CSV text (a comma in a URL is no city)
        rows = [(number, url, target.slug if target else "") for number, url in enumerate(urls, 1)]
        return photos_import_rows(rows=rows, source="api import", user=user)
    if lines:
        return photos_import_lines(text=lines, source="api import", user=user)
    if archives.starts_as_zip(file) or file.name.lower().endswith(".zip"):
        return zip_import.photos_import_zip(archive=file, city=target, user=user)
    if file.size > settings.PHOTO_FETCH_MAX_BYTES:
        raise ApplicationError(
            f"The file is {file.size:,} bytes, over the {settings.PHOTO_FETCH_MAX_BYTES:,} "
            "byte limit."
        )
    with transaction.atomic():
        batch = records.batch_create(
            source=ImportBatch.Source.UPLOAD, label="1 file", user=user, total=1
        )
        photo_ingest(image_file=file, city=target, source="upload", batch=batch)
    return batch


# ---- folders (the import_photos command) ------------------------------------------------------


def photos_import_folder(*, root: Path, user=None) -> ImportBatch:
    """Import a folder tree ``<city>/<image>`` (as the original scraper wrote it); files are
    streamed from disk one at a time."""
    if not root.is_dir():
        raise ApplicationError(f"{root} is not a folder.")
    cities = selectors.cities_by_key()
    files, unknown, skipped = [], [], []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        city = cities.get(folder.name.lower())
        if city is None:
            unknown.append(folder.name)
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.suffix.lower() not in images.IMAGE_FILE_SUFFIXES:
                skipped.append(
                    {"entry": str(path.relative_to(root)), "reason": "not an image file name"}
                )
            elif path.stat().st_size > settings.PHOTO_FETCH_MAX_BYTES:
                skipped.append(
                    {"entry": str(path.relative_to(root)), "reason": "over the size limit"}
                )
            else:
                files.append((path, city))
    if unknown:
        raise ApplicationError(
            f"Folders that are not cities of the catalog: {', '.join(unknown[:20])}."
        )
    if not files:
        raise ApplicationError(f"No image files under {root}.")
    with transaction.atomic():
        batch = records.batch_create(
            source=ImportBatch.Source.FOLDER,
            label=str(root)[-200:],
            user=user,
            total=len(files),
            skipped=skipped,
        )
        for path, city in files:
            with path.open("rb") as handle:
                photo_ingest(
                    image_file=File(handle), city=city, source="folder import", batch=batch
                )
    return batch
