"""Import photos from a folder tree, a zip archive or a file of `url,city` lines."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from core.errors import ApplicationError
from ingest import imports, zip_import
from photos import selectors


class Command(BaseCommand):
    help = (
        "Import photos through the analysis pipeline (fetch, validate, dedupe, quality, score, "
        "publish). PATH is a folder tree <city>/<image> (as the original scraper wrote it), a "
        ".zip of the same, or a .csv/.txt file of `url,city` lines. Shows the batch's progress "
        "until every photo is done, rejected or failed, unless --no-wait."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--no-wait", action="store_true", help="Return once queued.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait at most.")

    def handle(self, *args, path, no_wait, timeout, **options):
        try:
            if path.is_dir():
                batch = imports.photos_import_folder(root=path)
            elif path.suffix.lower() == ".zip":
                with path.open("rb") as archive:
                    batch = zip_import.photos_import_zip(archive=archive)
            elif path.is_file():
                text = path.read_text(encoding="utf-8-sig")
                batch = imports.photos_import_lines(text=text, source="command import")
            else:
                raise CommandError(f"{path} does not exist.")
        except ApplicationError as error:
            lines = error.details.get("lines", {}) if error.details else {}
            detail = "".join(f"\n  line {n}: {m}" for n, m in list(lines.items())[:50])
            raise CommandError(error.message + detail) from error
        self.stdout.write(f"Import batch {batch.pk}: {batch.total} photos queued.")
        if no_wait:
            return
        deadline = time.monotonic() + timeout
        with Progress() as progress:
            bar = progress.add_task(f"Import {batch.pk}", total=batch.total)
            while True:
                batch.refresh_from_db()
                counts = selectors.batch_counts(batch=batch)
                progress.update(bar, total=batch.total, completed=batch.total - counts["queued"])
                if selectors.batch_finished(batch=batch) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        for entry in batch.skipped[:50]:
            self.stdout.write(f"  skipped {entry['entry']}: {entry['reason']}")
        if batch.status == batch.Status.FAILED:
            raise CommandError(f"Batch {batch.pk} failed: {batch.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Batch {batch.pk}: {counts['done']} in the deck, {counts['rejected']} rejected, "
                f"{counts['duplicate']} duplicates, {counts['failed']} failed, "
                f"{counts['queued']} still queued."
            )
        )
