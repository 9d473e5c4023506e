"""Top-level routes: the browser pages, the admin and REST API v1."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from core.api import api_not_found
from core.media import favicon, serve_public_media
from core.metrics import metrics_view
from users.views import admin_login

urlpatterns = [
    path("", include("users.urls")),
    # The admin's log-in page under the log-in rate limits; reverse("admin:login") still names it.
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("cityvibes.api_urls", "api-v1"))),
    path("metrics", metrics_view, name="prometheus-metrics"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin, ReDoc).
    path("favicon.ico", favicon),
    # Unknown API paths answer JSON, with DEBUG on too (Django's debug 404 page is HTML).
    re_path(r"^api/", api_not_found),
]
# Local media on the embedded default and in the browser tests (public folders only, as images
# only: core/media.py); production serves media from its storage (e.g. S3) or a web server
# in front, with the same headers (docs/DEPLOYMENT.md).
if settings.SERVE_MEDIA:
    prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [re_path(rf"^{prefix}(?P<path>.*)$", serve_public_media, name="media")]

handler400 = "core.api.handler400"
handler403 = "core.api.handler403"
handler404 = "core.api.handler404"
handler500 = "core.api.handler500"
