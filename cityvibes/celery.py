"""The Celery application.

Configured from Django settings under the ``CELERY_`` namespace. With no ``CELERY_BROKER_URL`` the
settings switch Celery to eager mode, so tasks run in-process right after the transaction commits.
Workers log structured lines carrying the request id of the request that queued each task
(django-structlog), and export Prometheus metrics on CELERY_METRICS_PORT when it is set.
"""

import os

from celery import Celery
from celery.signals import (
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
)
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityvibes.settings.local")

app = Celery("cityvibes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(DjangoStructLogInitStep)


@worker_ready.connect
def _serve_worker_metrics(**kwargs) -> None:
    from django.conf import settings

    if settings.CELERY_METRICS_PORT:
        from core.metrics import start_worker_metrics_server

        start_worker_metrics_server(settings.CELERY_METRICS_PORT)


@worker_process_shutdown.connect
def _forget_dead_pool_process(pid=None, **kwargs) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, a pool process's live gauges go with it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


@worker_process_init.connect
def _preload_models(**kwargs) -> None:
    """Each pool process loads the active models once, before its first task (ml.runtime)."""
    from django.conf import settings

    if settings.ML_PRELOAD_MODELS:
        from ml.runtime import load_active_models

        load_active_models()


@task_prerun.connect
@task_postrun.connect
def _close_old_database_connections(sender=None, **kwargs) -> None:
    """Around each task, what Django does around each request: close the database connection
    only when it is older than CONN_MAX_AGE or unusable. (Celery's own fixup would close it after
    every task, CELERY_DB_REUSE_MAX turns that off: a new PostgreSQL connection per task was most
    of the cost of a photo's intake task, docs/BENCHMARKS.md.) Not for a task run eagerly, inside
    its caller's transaction."""
    if sender is not None and not getattr(sender.request, "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()
