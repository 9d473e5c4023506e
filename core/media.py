"""Files Django serves itself: MEDIA_ROOT (the embedded default and the browser tests), the
favicon's old address and ReDoc's bundle without its one remote image.

Only the public folders (settings.PUBLIC_MEDIA_PREFIXES) and only image files in them are served,
and every answer tells the browser to treat it as nothing but an image: ``nosniff`` and a
Content-Security-Policy that sandboxes the response and allows no script, style or frame. Even a
file that slipped past validation could not run as a page on this site's origin."""

import functools
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import condition
from django.views.static import serve

# Extensions the validate step writes (the decoded format's own).
PUBLIC_MEDIA_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})
MEDIA_CONTENT_SECURITY_POLICY = "default-src 'none'; img-src 'self'; sandbox"


def serve_public_media(request, path: str):
    clean = PurePosixPath(path)
    if (
        ".." in clean.parts
        or not path.startswith(settings.PUBLIC_MEDIA_PREFIXES)
        or clean.suffix.lower() not in PUBLIC_MEDIA_EXTENSIONS
    ):
        raise Http404("No such media file.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CONTENT_SECURITY_POLICY
    response["Cross-Origin-Resource-Policy"] = "same-site"
    return response


def favicon(request):
    """/favicon.ico: the site's icon (static/favicon.svg)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


# ReDoc's standalone bundle (drf-spectacular-sidecar) hard-codes the image of its "API docs by
# Redocly" badge from Redocly's CDN; an empty address makes the badge's own error handler hide
# the image (the link text stays), so the docs page loads nothing from another server.
REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_REMOTE_IMAGES = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


@dataclass(frozen=True)
class _Bundle:
    body: bytes
    gzipped: bytes
    etag: str


@functools.cache
def _redoc_bundle() -> _Bundle:
    """The bundle with the remote images removed, read and compressed once per process."""
    path = finders.find(REDOC_BUNDLE)
    if path is None:
        raise Http404("ReDoc's bundle is missing: pip install drf-spectacular-sidecar.")
    with open(path, "rb") as file:
        body = file.read()
    for address in REDOC_REMOTE_IMAGES:
        body = body.replace(f'"{address}"'.encode(), b'""')
    return _Bundle(
        body=body,
        gzipped=gzip.compress(body, mtime=0),
        # Weak: the gzipped and the plain answer are the same file.
        etag=f'W/"{hashlib.sha256(body).hexdigest()[:32]}"',
    )


@condition(etag_func=lambda request: _redoc_bundle().etag)
def redoc_bundle(request):
    """ReDoc's JavaScript, same origin only (templates/drf_spectacular/redoc.html loads it)."""
    bundle = _redoc_bundle()
    compressed = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(
        bundle.gzipped if compressed else bundle.body, content_type="text/javascript"
    )
    if compressed:
        response["Content-Encoding"] = "gzip"
    patch_vary_headers(response, ["Accept-Encoding"])
    patch_cache_control(response, public=True, max_age=24 * 3600)
    return response
