"""The app's Celery tasks, for Celery's autodiscovery: each is defined next to the code that
queues it (the runner, the archive unpacker)."""

from .runner import run_pipeline_step
from .zip_import import unpack_import_archive

__all__ = ["run_pipeline_step", "unpack_import_archive"]
