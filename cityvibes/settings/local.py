"""Local development: the default when nothing else is chosen. Debug on, a fixed dev secret."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=True)
METRICS_PUBLIC = env.bool("METRICS_PUBLIC", default=True)  # a developer's own machine
# The embedded default's web process: eager tasks in a background thread, never in a request.
CELERY_EAGER_TASKS_IN_BACKGROUND = env.bool("CELERY_EAGER_TASKS_IN_BACKGROUND", default=True)
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [  # noqa: F405
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ]
