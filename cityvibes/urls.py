"""Top-level routes: the browser pages, the admin and REST API v1."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from .api import api_not_found
from .metrics import metrics_view

urlpatterns = [
    path("", include("users.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("cityvibes.api_urls", "api-v1"))),
    path("metrics", metrics_view, name="prometheus-metrics"),
    # Unknown API paths answer JSON, with DEBUG on too (Django's debug 404 page is HTML).
    re_path(r"^api/", api_not_found),
]
# Local media on the embedded default and in the browser tests; production serves media from its
# storage (e.g. S3) or a web server in front.
if settings.SERVE_MEDIA:
    prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [
        re_path(rf"^{prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    ]

handler400 = "cityvibes.api.handler400"
handler403 = "cityvibes.api.handler403"
handler404 = "cityvibes.api.handler404"
handler500 = "cityvibes.api.handler500"
