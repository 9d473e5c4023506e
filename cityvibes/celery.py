"""The Celery application.

Configured from Django settings under the ``CELERY_`` namespace. With no ``CELERY_BROKER_URL`` the
settings switch Celery to eager mode, so tasks run in-process right after the transaction commits.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityvibes.settings.local")

app = Celery("cityvibes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
