"""How photos are imported: URL lists and CSV lines, single uploads, zip archives and folder
trees. Each import is one ImportBatch whose photos go through the analysis pipeline.

Everything here is hostile input. URL lines are checked all or nothing before anything is
stored. A zip archive's directory is checked in the request (entry count, encryption,
compression methods, declared sizes and compression ratios, city folders), then a worker unpacks
it, streaming each entry to disk while counting the bytes really unpacked: the headers' sizes
are never trusted."""

import csv
import io
import lzma
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.db import transaction

from cityvibes.errors import ApplicationError

from . import services
from .models import City, ImportBatch, Photo

# File names an archive entry or a folder file may have to be imported as a photo; the validate
# step decides from the bytes what really is an image.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")
# Compression methods Python's zipfile can unpack: stored, deflate, bzip2, LZMA.
ZIP_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
# What unpacking a broken, encrypted or exotic entry raises (bad CRC, cut-off stream, a password
# needed, an unsupported method).
UNPACK_ERRORS = (
    zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, zlib.error,
    lzma.LZMAError,
)  # fmt: skip
# Below this many unpacked bytes an entry's compression ratio is not held against it (a tiny,
# flat image can compress well without being a bomb).
RATIO_FREE_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024


def _cities_by_key() -> dict[str, City]:
    """Cities by lower-case slug and by lower-case name."""
    found: dict[str, City] = {}
    for city in City.objects.all():
        found[city.slug.lower()] = city
        found[city.name.lower()] = city
    return found


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
    """Import `url,city` lines all or nothing, as one batch through the analysis pipeline.

    Every line is checked first (an http(s) URL the fetcher would connect to, known city by slug
    or name, not a duplicate in the batch or of a stored photo). Any error raises
    ApplicationError whose ``details["lines"]`` maps each bad line number to its message, and
    nothing is stored.
    """
    rows = photo_lines_parse(text=text)
    if not rows:
        raise ApplicationError("No `url,city` lines found.")
    cities_by_key = _cities_by_key()
    candidate_urls = [url for _, url, _ in rows if services.url_problem(url) is None]
    known_urls = set(
        Photo.objects.filter(image_url__in=candidate_urls).values_list("image_url", flat=True)
    )
    errors: dict[str, str] = {}
    seen_urls: dict[str, int] = {}
    accepted: list[tuple[str, City | None]] = []
    for line_number, url, city_key in rows:
        if problem := services.url_problem(url):
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
            services.photo_create(image_url=url, city=city, source=source, batch=batch)
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
        target = _cities_by_key().get(city.strip().lower())
        if target is None:
            raise ApplicationError(f"Unknown city '{city[:100]}' (use a slug or a name).")
    if urls:
        text = "\n".join(f"{url},{target.slug if target else ''}" for url in urls)
        return photos_import_lines(text=text, source="api import", user=user)
    if lines:
        return photos_import_lines(text=lines, source="api import", user=user)
    if zipfile.is_zipfile(file) or file.name.lower().endswith(".zip"):
        file.seek(0)
        return photos_import_zip(archive=file, city=target, user=user)
    file.seek(0)
    if file.size > settings.PHOTO_FETCH_MAX_BYTES:
        raise ApplicationError(
            f"The file is {file.size:,} bytes, over the {settings.PHOTO_FETCH_MAX_BYTES:,} "
            "byte limit."
        )
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            source=ImportBatch.Source.UPLOAD, label="1 file", created_by=user, total=1
        )
        services.photo_create(image_file=file, city=target, source="upload", batch=batch)
    return batch


# ---- zip archives -----------------------------------------------------------------------------


@dataclass
class ArchivePlan:
    """What a zip archive's directory says it holds: the entries to import (index, city slug)
    and those skipped with why."""

    entries: list[tuple[int, str | None]] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


def _archive_entries(bundle: zipfile.ZipFile, city: City | None) -> ArchivePlan:
    """Which entries are photos to import (by name) and which are skipped; unknown city folders
    raise ApplicationError."""
    cities = _cities_by_key()
    plan, unknown = ArchivePlan(), set()
    for index, info in enumerate(bundle.infolist()):
        name = info.filename
        path = PurePosixPath(name.replace("\\", "/"))
        if info.is_dir():
            continue
        if path.name.startswith(".") or "__MACOSX" in name:
            plan.skipped.append({"entry": name[:300], "reason": "hidden or system file"})
            continue
        if not path.name.lower().endswith(IMAGE_SUFFIXES):
            plan.skipped.append(
                {
                    "entry": name[:300],
                    "reason": f"not an image file name ({', '.join(IMAGE_SUFFIXES)})",
                }
            )
            continue
        folder = path.parent.name
        entry_city = cities.get(folder.lower()) if folder else city
        if folder and entry_city is None:
            unknown.add(folder[:100])
            continue
        plan.entries.append((index, entry_city.slug if entry_city else None))
    if unknown:
        raise ApplicationError(
            f"Folders that are not cities of the catalog: {', '.join(sorted(unknown)[:20])}."
        )
    return plan


def archive_plan(*, bundle: zipfile.ZipFile, city: City | None) -> ArchivePlan:
    """Check a zip archive's directory before anything is stored (no entry is unpacked here):
    encryption, compression methods, declared sizes and compression ratios, the entry count.
    Raises ApplicationError for what makes the archive unusable. The worker that unpacks it
    counts the real bytes again: headers can lie."""
    limits = settings.PHOTO_IMPORT_LIMITS
    per_file = settings.PHOTO_FETCH_MAX_BYTES
    plan = _archive_entries(bundle, city)
    infos = bundle.infolist()
    declared = 0
    for index, _ in plan.entries:
        info, name = infos[index], infos[index].filename[:200]
        if info.flag_bits & 0x1:
            raise ApplicationError(f"{name} is encrypted; send an archive without a password.")
        if info.compress_type not in ZIP_METHODS:
            raise ApplicationError(
                f"{name} uses compression method {info.compress_type}, which is not supported; "
                f"use {', '.join(ZIP_METHODS.values())}."
            )
        if info.file_size > per_file:
            raise ApplicationError(
                f"{name} is {info.file_size:,} bytes, over the {per_file:,} byte limit per photo."
            )
        if info.file_size > max(info.compress_size * limits["max_ratio"], RATIO_FREE_BYTES):
            raise ApplicationError(
                f"{name} unpacks {info.file_size // max(info.compress_size, 1):,} times larger "
                f"than it is packed (the limit is {limits['max_ratio']}): refused as a zip bomb."
            )
        declared += info.file_size
    if not plan.entries:
        raise ApplicationError("The zip archive holds no image files.")
    if len(plan.entries) > limits["max_files"]:
        raise ApplicationError(
            f"The archive holds {len(plan.entries)} images; the limit is {limits['max_files']}."
        )
    if declared > limits["max_zip_bytes"]:
        raise ApplicationError(
            f"The archive unpacks to {declared:,} bytes; the limit is {limits['max_zip_bytes']:,}."
        )
    return plan


def photos_import_zip(*, archive, city: City | None = None, user=None) -> ImportBatch:
    """Check a zip archive (``archive_plan``), keep it where workers can read it (never served),
    and queue its unpacking: the request does not unpack anything."""
    from .tasks import unpack_import_archive

    try:
        with zipfile.ZipFile(archive) as bundle:
            plan = archive_plan(bundle=bundle, city=city)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        raise ApplicationError(f"Not a readable zip archive: {error}") from error
    archive.seek(0)
    label = PurePosixPath(getattr(archive, "name", "") or "archive.zip").name[-200:]
    with transaction.atomic():
        batch = ImportBatch(
            source=ImportBatch.Source.ZIP,
            label=label,
            created_by=user,
            total=len(plan.entries),
            status=ImportBatch.Status.UNPACKING,
            skipped=plan.skipped,
        )
        batch.archive.save(services.random_file_name(".zip"), File(archive), save=False)
        batch.save()
        transaction.on_commit(
            lambda: unpack_import_archive.delay(batch.pk, city.pk if city else None), robust=True
        )
    return batch


class _EntryRefused(Exception):
    """One archive entry is not imported; the message says why."""


def _unpack_entry(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, spool) -> int:
    """Stream one entry into ``spool``, counting the bytes really unpacked; returns the count.
    Stops as soon as the entry passes the per-photo limit, its compression ratio, or what is
    left of the archive's total ``budget``."""
    limits = settings.PHOTO_IMPORT_LIMITS
    allowed = min(
        settings.PHOTO_FETCH_MAX_BYTES,
        max(info.compress_size * limits["max_ratio"], RATIO_FREE_BYTES),
    )
    written = 0
    try:
        with bundle.open(info) as entry:
            while chunk := entry.read(READ_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise _EntryRefused("the archive unpacks to more than the total limit")
                if written > allowed:
                    raise _EntryRefused(
                        f"it unpacks to more than {allowed:,} bytes (per-photo limit or "
                        f"compression ratio over {limits['max_ratio']})"
                    )
                spool.write(chunk)
    except UNPACK_ERRORS as error:
        raise _EntryRefused(f"it cannot be unpacked ({type(error).__name__}: {error})") from error
    return written


def import_archive_unpack(*, batch_id: int, city_id: int | None = None) -> None:
    """Unpack a checked archive (run by a worker): each image entry becomes a photo in the
    pipeline; entries that break a limit or cannot be unpacked are listed in the batch's
    ``skipped``. Idempotent: a redelivered task skips the entries it imported before."""
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != ImportBatch.Status.UNPACKING:
        return
    if not batch.archive:
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportBatch.Status.FAILED, error="The uploaded archive is gone."
        )
        return
    default_city = City.objects.filter(pk=city_id).first() if city_id else None
    done_sources = set(batch.photos.values_list("source", flat=True))
    skipped = list(batch.skipped)
    budget = settings.PHOTO_IMPORT_LIMITS["max_zip_bytes"]
    try:
        with batch.archive.open("rb") as stored, zipfile.ZipFile(stored) as bundle:
            cities = _cities_by_key()
            plan = _archive_entries(bundle, default_city)
            infos = bundle.infolist()
            for index, slug in plan.entries[: settings.PHOTO_IMPORT_LIMITS["max_files"]]:
                info, source = infos[index], f"zip entry {index}"
                city = cities.get(slug) if slug else None
                with tempfile.TemporaryFile() as spool:
                    try:
                        budget -= _unpack_entry(bundle, info, budget, spool)
                    except _EntryRefused as refused:
                        skipped.append({"entry": info.filename[:300], "reason": str(refused)})
                        continue
                    if source in done_sources:
                        continue
                    spool.seek(0)
                    services.photo_create(
                        image_file=File(spool), city=city, source=source, batch=batch
                    )
    except (ApplicationError, zipfile.BadZipFile, OSError, EOFError) as error:
        message = getattr(error, "message", None) or str(error)
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportBatch.Status.FAILED, error=f"The archive cannot be unpacked: {message}"
        )
        batch.archive.delete(save=False)
        return
    imported = batch.photos.count()
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportBatch.Status.QUEUED if imported else ImportBatch.Status.FAILED,
            error="" if imported else "No entry of the archive could be imported.",
            total=imported,
            skipped=skipped,
            archive="",
        )
    batch.archive.storage.delete(batch.archive.name)


# ---- folders (the import_photos command) ------------------------------------------------------


def photos_import_folder(*, root: Path, user=None) -> ImportBatch:
    """Import a folder tree ``<city>/<image>`` (as the original scraper wrote it); files are
    streamed from disk one at a time."""
    if not root.is_dir():
        raise ApplicationError(f"{root} is not a folder.")
    cities = _cities_by_key()
    files, unknown, skipped = [], [], []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        city = cities.get(folder.name.lower())
        if city is None:
            unknown.append(folder.name)
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
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
        batch = ImportBatch.objects.create(
            source=ImportBatch.Source.FOLDER,
            label=str(root)[-200:],
            created_by=user,
            total=len(files),
            skipped=skipped,
        )
        for path, city in files:
            with path.open("rb") as handle:
                services.photo_create(
                    image_file=File(handle), city=city, source="folder import", batch=batch
                )
    return batch
