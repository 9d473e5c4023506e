"""WSGI entry point (gunicorn cityvibes.wsgi, and runserver through WSGI_APPLICATION)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityvibes.settings.local")
django_application = get_wsgi_application()

from core.middleware import refuse_non_text_charsets  # noqa: E402 (needs Django set up)

application = refuse_non_text_charsets(django_application)
