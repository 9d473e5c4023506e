"""API plumbing shared by every app: the one JSON error shape and the JSON 404/500 handlers.

Every error leaves the API as ``{"meta": {"type": "error", "code": <status>, "message": "...",
"details": {...}}}``: the same envelope as the classify endpoint, so a client needs one decoder.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError


def error_body(code: int, message: str, details: dict | None = None) -> dict:
    meta = {"type": "error", "code": code, "message": _encodable(message)}
    if details:
        meta["details"] = _encodable(details)
    return {"meta": meta}


def _encodable(value):
    """``value`` with every string (dict keys too, at any depth) encodable as UTF-8: errors
    echo client input, and a lone surrogate in it (``\\ud800``) would make the JSON renderer
    fail, turning a 4xx into a 500. Such characters become backslash escapes; valid strings
    (DRF's ErrorDetail with its code included) are kept as they are."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    return value


def _first_message(detail) -> str:
    """The first human-readable message in a DRF error detail, prefixed with its field name."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _first_message(value)
            return inner if field in ("non_field_errors", "detail") else f"{field}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.status_code, exc.message, exc.details), status=exc.status_code
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling (JSON under /api/, see below)
    detail = response.data
    details = detail if isinstance(detail, dict) and set(detail) != {"detail"} else None
    if isinstance(detail, list):
        details = {"non_field_errors": detail}
    response.data = error_body(response.status_code, _first_message(detail), details)
    return response


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def _json_error(code: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=code)


@csrf_exempt  # a token client that mistypes a path deserves the 404, not a CSRF page
def api_not_found(request):
    return _json_error(404, f"No API endpoint at {request.path}. See /api/v1/docs/.")


def handler400(request, exception=None):
    if _wants_json(request):
        return _json_error(400, f"Bad request: {exception or 'malformed request'}.")
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request, exception=None):
    if _wants_json(request):
        return _json_error(403, str(exception) or "Not allowed.")
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def csrf_failure(request, reason=""):
    if _wants_json(request):
        return _json_error(403, f"CSRF check failed: {reason}")
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


def handler404(request, exception=None):
    if _wants_json(request):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if _wants_json(request):
        return _json_error(500, "Internal server error. It has been logged.")
    from django.views.defaults import server_error

    return server_error(request)


class ErrorMetaSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["error"])
    code = serializers.IntegerField()
    message = serializers.CharField()
    details = serializers.DictField(required=False)


class ErrorSerializer(serializers.Serializer):
    """The body of every API error."""

    meta = ErrorMetaSerializer()


def error_responses(*codes: int) -> dict:
    """drf-spectacular response entries for the given error status codes."""
    descriptions = {
        400: "Malformed or invalid request.",
        401: "Missing or invalid credentials.",
        403: "Not allowed.",
        404: "Not found.",
        409: "Conflicts with the current state.",
        413: "The upload is larger than the limit.",
        415: "Unsupported media type.",
        429: "Too many requests: over a rate limit. Retry after the Retry-After header's seconds.",
    }
    return {
        code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in codes
    }


def add_generic_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the errors every endpoint can give
    (401/403 where credentials are needed, 400, 413 and 415 where a body is read)."""
    error_ref = {"$ref": "#/components/schemas/Error"}
    generic = {
        "400": "Malformed or invalid request.",
        "401": "Missing or invalid credentials.",
        "403": "Not allowed, or a browser-session write without a CSRF token.",
        "413": "The request body is larger than this endpoint's limit.",
        "415": "The body is not JSON (send Content-Type: application/json).",
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            needed = []
            if "requestBody" in operation:
                needed += ["400", "413", "415"]
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                needed += ["400"]  # e.g. a pagination limit that is not a whole number
            if operation.get("security") and {} not in operation["security"]:
                needed += ["401", "403"]
            for code in needed:
                operation["responses"].setdefault(
                    code,
                    {
                        "description": generic[code],
                        "content": {"application/json": {"schema": error_ref}},
                    },
                )
    return result
