"""Load or update the city catalog from a `slug,name` CSV file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from photos import services
from photos.catalog import CATALOG_PATH, read_city_catalog


class Command(BaseCommand):
    help = (
        "Create the cities of a `slug,name` CSV file (default: the shipped catalog of 266 urban "
        "areas) and rename those whose name changed. Never deletes a city."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(CATALOG_PATH), help="CSV file.")

    def handle(self, *args, path, **options):
        try:
            rows = read_city_catalog(Path(path))
        except (OSError, ValueError, KeyError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        created, renamed = services.city_catalog_sync(rows=rows)
        self.stdout.write(self.style.SUCCESS(f"{created} cities created, {renamed} renamed."))
