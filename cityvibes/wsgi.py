"""WSGI entry point (gunicorn cityvibes.wsgi, and runserver through WSGI_APPLICATION)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityvibes.settings.local")
django_application = get_wsgi_application()

from core.middleware import refuse_non_text_charsets  # noqa: E402 (needs Django set up)

application = refuse_non_text_charsets(django_application)


def _preload_models() -> None:
    from django.conf import settings
    from django.db import DatabaseError

    if not settings.ML_PRELOAD_MODELS:
        return
    from ml.runtime import load_active_models

    try:
        load_active_models()
    except DatabaseError as error:  # not migrated yet: load on first use instead
        import logging

        logging.getLogger(__name__).warning("models not preloaded: %s", error)


def _start_background_tasks() -> None:
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER and settings.CELERY_EAGER_TASKS_IN_BACKGROUND:
        from cityvibes.background import run_eager_tasks_in_background

        run_eager_tasks_in_background()


_start_background_tasks()
_preload_models()
