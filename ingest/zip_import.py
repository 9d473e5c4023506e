"""A zip archive as an import: the request checks it (ingest/archives.py) and keeps it in the
private storage; a worker unpacks it, one photo per image entry, into the pipeline."""

import tempfile
import zipfile
from pathlib import PurePosixPath

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.db import transaction

from core.errors import ApplicationError
from photos import records, selectors
from photos.models import City, ImportBatch

from . import archives
from .runner import photo_ingest


def photos_import_zip(*, archive, city: City | None = None, user=None) -> ImportBatch:
    """Check a zip archive (``archive_plan``), keep it in the private storage where workers can
    read it, and queue its unpacking: the request does not unpack anything."""
    if not archives.starts_as_zip(archive):
        raise ApplicationError("Not a readable zip archive: it does not start like one.")
    try:
        archives.check_entry_count(archive)
        with zipfile.ZipFile(archive) as bundle:
            plan = archives.archive_plan(
                bundle=bundle, city=city, archive_size=archives.size(archive)
            )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        raise ApplicationError(f"Not a readable zip archive: {error}") from error
    archive.seek(0)
    label = PurePosixPath(getattr(archive, "name", "") or "archive.zip").name[-200:]
    with transaction.atomic():
        batch = records.batch_create(
            source=ImportBatch.Source.ZIP,
            label=label,
            user=user,
            total=len(plan.entries),
            skipped=plan.skipped,
            archive=File(archive),
        )
        transaction.on_commit(
            lambda: unpack_import_archive.delay(batch.pk, city.pk if city else None), robust=True
        )
    return batch


def import_archive_unpack(*, batch_id: int, city_id: int | None = None) -> None:
    """Unpack a checked archive (run by a worker): each image entry becomes a photo in the
    pipeline; entries that break a limit or cannot be unpacked are listed in the batch's
    ``skipped``. Idempotent: a redelivered task skips the entries it imported before."""
    batch = selectors.batch_get(batch_id=batch_id)
    if batch is None or batch.status != ImportBatch.Status.UNPACKING:
        return
    if not batch.archive:
        records.batch_fail(batch_id=batch_id, error="The uploaded archive is gone.")
        return
    default_city = selectors.city_get_by_id(city_id=city_id) if city_id else None
    done_sources = set(batch.photos.values_list("source", flat=True))
    skipped = list(batch.skipped)
    try:
        with batch.archive.open("rb") as stored, zipfile.ZipFile(stored) as bundle:
            budget = archives.archive_budget(batch.archive.size)
            cities = selectors.cities_by_key()
            plan = archives.archive_entries(bundle, default_city)
            infos = bundle.infolist()
            for index, slug in plan.entries[: settings.PHOTO_IMPORT_LIMITS["max_files"]]:
                info, source = infos[index], f"zip entry {index}"
                city = cities.get(slug) if slug else None
                with tempfile.TemporaryFile() as spool:
                    try:
                        budget -= archives.unpack_entry(bundle, info, budget, spool)
                    except archives.EntryRefused as refused:
                        skipped.append({"entry": info.filename[:300], "reason": str(refused)})
                        continue
                    if source in done_sources:
                        continue
                    spool.seek(0)
                    photo_ingest(image_file=File(spool), city=city, source=source, batch=batch)
    except (ApplicationError, zipfile.BadZipFile, OSError, EOFError) as error:
        message = getattr(error, "message", None) or str(error)
        records.batch_fail(batch_id=batch_id, error=f"The archive cannot be unpacked: {message}")
        return
    records.batch_unpacked(batch_id=batch_id, skipped=skipped)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def unpack_import_archive(batch_id: int, city_id: int | None = None) -> None:
    import_archive_unpack(batch_id=batch_id, city_id=city_id)
