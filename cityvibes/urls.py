"""Top-level routes: the browser pages, the admin and REST API v1."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import TemplateView

from .api import api_not_found

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("cityvibes.api_urls", "api-v1"))),
    # Unknown API paths answer JSON, with DEBUG on too (Django's debug 404 page is HTML).
    re_path(r"^api/", api_not_found),
]
# Local media on the embedded default; production serves media from its storage (e.g. S3).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "cityvibes.api.handler400"
handler403 = "cityvibes.api.handler403"
handler404 = "cityvibes.api.handler404"
handler500 = "cityvibes.api.handler500"
