"""Files Django serves itself: MEDIA_ROOT (the embedded default and the browser tests) and the
favicon's old address.

Only the public folders (settings.PUBLIC_MEDIA_PREFIXES) and only image files in them are served,
and every answer tells the browser to treat it as nothing but an image: ``nosniff`` and a
Content-Security-Policy that sandboxes the response and allows no script, style or frame. Even a
file that slipped past validation could not run as a page on this site's origin."""

from pathlib import PurePosixPath

from django.conf import settings
from django.http import Http404, HttpResponsePermanentRedirect
from django.templatetags.static import static
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
