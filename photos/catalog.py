"""The default city catalog shipped with the project: the 266 urban areas of the original app."""

import csv
from pathlib import Path

CATALOG_PATH = Path(__file__).resolve().parent / "data" / "cities.csv"


def read_city_catalog(path: Path = CATALOG_PATH) -> list[tuple[str, str]]:
    """(slug, name) rows of a `slug,name` CSV file with a header line."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"slug", "name"} <= set(reader.fieldnames):
            raise ValueError(f"{path} must have a header line 'slug,name'.")
        return [(row["slug"].strip(), row["name"].strip()) for row in reader if row["slug"].strip()]
