"""Request middleware: body size limits before the body is read, and request ids."""

import re
import uuid

from django.conf import settings
from django.http import JsonResponse

from .api import error_body

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def body_limit_for(path: str) -> int:
    """The largest body (bytes) a request to this path may send: the longest matching prefix
    of REQUEST_BODY_LIMITS, else REQUEST_BODY_MAX_BYTES."""
    matches = [prefix for prefix in settings.REQUEST_BODY_LIMITS if path.startswith(prefix)]
    if not matches:
        return settings.REQUEST_BODY_MAX_BYTES
    return settings.REQUEST_BODY_LIMITS[max(matches, key=len)]


class RequestBodyLimitMiddleware:
    """Refuses a request whose Content-Length is over its path's limit with 413, before anything
    reads the body (Django reads it only when a view touches request.POST/FILES/body).

    A body sent without Content-Length (chunked) is not read at all by Django's WSGI handler, and
    gunicorn passes on no more than the declared length, so the header is the whole story."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(error_body(400, "Content-Length is not a number."), status=400)
        limit = body_limit_for(request.path)
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
