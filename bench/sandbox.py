"""A throwaway Django project state for benchmarks: its own SQLite file (or DATABASE_URL when
BENCH_DATABASE_URL is set) and media folder, migrated, with Celery tasks in-process."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def django_sandbox() -> Path:
    """Configure and set up Django in a fresh temporary folder; returns the folder."""
    folder = Path(tempfile.mkdtemp(prefix="cityvibes-bench-"))
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}"
    )
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    os.environ["PRIVATE_FILES_ROOT"] = str(folder / "private")
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ["DJANGO_SETTINGS_MODULE"] = "cityvibes.settings.local"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return folder


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.array(values), q))


def fresh_postgres_database(server_url: str, name: str) -> str:
    """An empty PostgreSQL database ``name`` on the server of ``server_url`` (dropped first if
    it exists, never the one the URL names); returns its URL."""
    import psycopg2

    connection = psycopg2.connect(server_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {name}")
    connection.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"
