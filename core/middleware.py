"""Request middleware: body size limits before the body is read, and request ids."""

import codecs
import json
import re
import uuid

from django.conf import settings
from django.http import JsonResponse
from django.utils.http import parse_header_parameters

from .api import error_body

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def body_limit_for(path: str, *, staff: bool = False) -> int:
    """The largest body (bytes) a request to this path may send: the longest matching prefix
    of REQUEST_BODY_LIMITS, else REQUEST_BODY_MAX_BYTES. Under STAFF_BODY_PREFIXES the larger
    limit is only for a signed-in staff member: Django's CSRF check reads a form body before the
    admin's log-in redirect, so anyone else would get a gigabyte streamed to disk."""
    matches = [prefix for prefix in settings.REQUEST_BODY_LIMITS if path.startswith(prefix)]
    if not matches or (path.startswith(settings.STAFF_BODY_PREFIXES) and not staff):
        return settings.REQUEST_BODY_MAX_BYTES
    return settings.REQUEST_BODY_LIMITS[max(matches, key=len)]


class RequestBodyLimitMiddleware:
    """Refuses a request whose Content-Length is over its path's limit with 413, before anything
    reads the body (Django reads it only when a view touches request.POST/FILES/body; the CSRF
    check does, in process_view, after every middleware's request phase). It runs after the
    session and authentication middleware, which read no body, so it knows who is asking.

    A body sent without Content-Length (chunked) is not read at all by Django's WSGI handler, and
    gunicorn passes on no more than the declared length, so the header is the whole story."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(error_body(400, "Content-Length is not a number."), status=400)
        user = getattr(request, "user", None)
        limit = body_limit_for(request.path, staff=bool(user and user.is_active and user.is_staff))
        if length > limit:
            message = f"The request body ({length:,} bytes) is over the limit of {limit:,} bytes."
            response = JsonResponse(error_body(413, message), status=413)
            response["Connection"] = "close"  # do not read the rest of the body to reuse it
            return response
        return self.get_response(request)


class RequestIdMiddleware:
    """Gives every request an id: the client's (or proxy's) X-Request-ID when it is a sane token,
    else a new one. django-structlog (placed after this) puts it on each log line of the request
    and on the Celery tasks it queues; the response echoes it, so a bug report points at the
    server's logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        upstream = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = upstream if REQUEST_ID_PATTERN.fullmatch(upstream) else uuid.uuid4().hex
        request.META["HTTP_X_REQUEST_ID"] = request_id
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def refuse_non_text_charsets(application):
    """WSGI middleware: a Content-Type whose charset names a codec that is no text encoding
    (``rot13``, ``zlib``, ``base64``...) gets a JSON 400. Django accepts any codec name there and
    fails with a 500 while building the request (it decodes the query string with it), before
    any Django middleware runs, so this check sits in front of Django itself."""

    def guarded(environ, start_response):
        _, params = parse_header_parameters(environ.get("CONTENT_TYPE", ""))
        charset = params.get("charset")
        if charset:
            try:
                codecs.lookup(charset)
            except LookupError:
                charset = None  # an unknown name: Django ignores it itself
        if charset:
            try:
                b"x".decode(charset)  # an empty input would not reach the codec
            except (UnicodeError, ValueError):
                pass  # a text encoding that cannot decode "x" (UTF-16...): Django's to handle
            except LookupError:
                message = f"The charset {charset[:40]!r} of Content-Type is not a text encoding."
                body = json.dumps(error_body(400, message)).encode()
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
        return application(environ, start_response)

    return guarded
