"""Reading zip archives safely: what an archive's directory may declare (entry count from the end
record, encryption, compression methods, sizes, per-entry and whole-archive compression ratios,
overlapping entries, city folders), and streaming one entry while counting the bytes it really
unpacks: the headers' sizes are never trusted. ingest/zip_import.py imports with it."""

import io
import itertools
import lzma
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.conf import settings

from core.errors import ApplicationError
from photos import images, selectors
from photos.models import City

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
# Below this many unpacked bytes an entry's (or a whole archive's) compression ratio is not held
# against it (a tiny, flat image can compress well without being a bomb).
RATIO_FREE_BYTES = 1024 * 1024
# Entries of any kind (folders, skipped files) an archive may list, per image it may hold: the
# directory is parsed into memory, so its size is checked from the end record first.
ENTRIES_PER_IMAGE = 2
SKIPPED_LISTED = 100  # skipped entries named on the batch; the rest are counted
READ_CHUNK = 64 * 1024


@dataclass
class ArchivePlan:
    """What a zip archive's directory says it holds: the entries to import (index, city slug)
    and those skipped with why."""

    entries: list[tuple[int, str | None]] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


def archive_entries(bundle: zipfile.ZipFile, city: City | None) -> ArchivePlan:
    """Which entries are photos to import (by name) and which are skipped; unknown city folders
    raise ApplicationError."""
    cities = selectors.cities_by_key()
    plan, unknown = ArchivePlan(), set()
    for index, info in enumerate(bundle.infolist()):
        name = info.filename
        path = PurePosixPath(name.replace("\\", "/"))
        if info.is_dir():
            continue
        if path.name.startswith(".") or "__MACOSX" in name:
            plan.skipped.append({"entry": name[:300], "reason": "hidden or system file"})
            continue
        if not path.name.lower().endswith(images.IMAGE_FILE_SUFFIXES):
            plan.skipped.append(
                {
                    "entry": name[:300],
                    "reason": f"not an image file name ({', '.join(images.IMAGE_FILE_SUFFIXES)})",
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
    if len(plan.skipped) > SKIPPED_LISTED:
        more = len(plan.skipped) - SKIPPED_LISTED
        plan.skipped = [
            *plan.skipped[:SKIPPED_LISTED],
            {"entry": f"{more:,} more entries", "reason": "not listed"},
        ]
    return plan


def archive_budget(archive_size: int) -> int:
    """The most bytes a whole archive of this size may unpack to: the total limit, and the
    compression ratio applied to the archive as a whole (many small entries, or entries that
    overlap, each within the per-entry ratio, must not add up to a bomb)."""
    limits = settings.PHOTO_IMPORT_LIMITS
    return min(limits["max_zip_bytes"], max(archive_size * limits["max_ratio"], RATIO_FREE_BYTES))


def _check_overlaps(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse entries whose data overlap (several directory records pointing into one stream:
    a quine-style bomb that Python 3.11's zipfile does not detect)."""
    ordered = sorted(infos, key=lambda info: info.header_offset)
    for current, following in itertools.pairwise(ordered):
        if following.header_offset < current.header_offset + 30 + current.compress_size:
            raise ApplicationError(
                f"Entries {current.filename[:100]} and {following.filename[:100]} overlap: "
                "refused as a zip bomb (or a broken archive)."
            )


def check_entry_count(archive) -> None:
    """Refuse an archive whose end record lists more entries than allowed, before zipfile parses
    its whole directory into memory."""
    limit = ENTRIES_PER_IMAGE * settings.PHOTO_IMPORT_LIMITS["max_files"]
    archive.seek(0)
    end = zipfile._EndRecData(archive)  # the stdlib's own end-record reader (zip64 too)
    archive.seek(0)
    if end is None:
        raise ApplicationError("Not a readable zip archive: no end of central directory.")
    if end[zipfile._ECD_ENTRIES_TOTAL] > limit:
        raise ApplicationError(
            f"The archive lists {end[zipfile._ECD_ENTRIES_TOTAL]:,} entries; the limit is "
            f"{limit:,}."
        )


def archive_plan(*, bundle: zipfile.ZipFile, city: City | None, archive_size: int) -> ArchivePlan:
    """Check a zip archive's directory before anything is stored (no entry is unpacked here):
    encryption, compression methods, declared sizes and compression ratios (per entry and for
    the whole archive), overlapping entries, the image count.
    Raises ApplicationError for what makes the archive unusable. The worker that unpacks it
    counts the real bytes again: headers can lie."""
    limits = settings.PHOTO_IMPORT_LIMITS
    per_file = settings.PHOTO_FETCH_MAX_BYTES
    plan = archive_entries(bundle, city)
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
    if declared > archive_budget(archive_size):
        raise ApplicationError(
            f"The archive unpacks to {declared // max(archive_size, 1):,} times its size (the "
            f"limit is {limits['max_ratio']}): refused as a zip bomb."
        )
    _check_overlaps(infos)
    return plan


def size(file) -> int:
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def starts_as_zip(file) -> bool:
    """Whether the file begins with a zip header (a local file header, or an empty archive's
    end record). Zip readers also accept data in front (a JPEG with a zip appended): here a file
    is a zip only if it starts as one."""
    file.seek(0)
    start = file.read(4)
    file.seek(0)
    return start in (b"PK\x03\x04", b"PK\x05\x06")


class EntryRefused(Exception):
    """One archive entry is not imported; the message says why."""


def unpack_entry(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, spool) -> int:
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
                    raise EntryRefused(
                        "the archive unpacks to more than its total limit (bytes, or ratio to "
                        "its size)"
                    )
                if written > allowed:
                    raise EntryRefused(
                        f"it unpacks to more than {allowed:,} bytes (per-photo limit or "
                        f"compression ratio over {limits['max_ratio']})"
                    )
                spool.write(chunk)
    except UNPACK_ERRORS as error:
        raise EntryRefused(f"it cannot be unpacked ({type(error).__name__}: {error})") from error
    return written
