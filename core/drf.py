"""DRF classes named in settings. Kept apart from core.api, which imports DRF's views:
settings that name a class in a module importing DRF views would import in a circle."""

import re

from rest_framework import exceptions, pagination, parsers, throttling

from . import ratelimit


class Pagination(pagination.LimitOffsetPagination):
    """DRF's limit/offset pagination, strict: a `limit` or `offset` that is not a whole number
    (or below 1 / 0) is a 400 instead of being silently replaced by the default."""

    default_limit = 50
    max_limit = 300  # a client's `limit` above this is capped (huge numbers included)
    max_offset = 10**12  # beyond any table here, and within the databases' 64-bit OFFSET

    def _whole_number(self, request, name: str, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise exceptions.ValidationError({name: ["A whole number is required."]}) from None
        if value < minimum:
            raise exceptions.ValidationError({name: [f"Must be {minimum} or more."]})
        return value

    def get_limit(self, request):
        value = self._whole_number(request, self.limit_query_param, 1)
        return self.default_limit if value is None else min(value, self.max_limit)

    def get_offset(self, request):
        value = self._whole_number(request, self.offset_query_param, 0)
        return 0 if value is None else min(value, self.max_offset)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        minimum = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            parameter["schema"]["minimum"] = minimum[parameter["name"]]
        return parameters


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus a 400 for nesting too deep to decode (instead of a 500) and for
    strings that are not valid Unicode: JSON lets a lone surrogate through as an escape
    (``"\\ud800"``), which nothing downstream can encode (the database, the renderer)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from error
        if _has_lone_surrogate(data):
            raise exceptions.ParseError(
                "JSON parse error - a string is not valid Unicode: it holds an unpaired "
                "surrogate escape (\\ud800 to \\udfff)."
            )
        return data


_SURROGATE = re.compile("[\ud800-\udfff]")  # paired ones were joined by the decoder


def _has_lone_surrogate(data) -> bool:
    """Whether any string in parsed JSON (keys included, at any depth) has a lone surrogate.
    A loop, not recursion: the decoder accepts nesting as deep as the recursion limit."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class _ScopedRateThrottle(throttling.BaseThrottle):
    """The view's ``throttle_scope`` limit of one kind, counted by core.ratelimit (where the
    browser forms count theirs, so both doors share one budget per action). Rates are read on
    every request, so a setting changed at run time (or by a test) applies at once. Views
    without a scope, and scopes without a rate, are not limited."""

    kind = ""

    def allow_request(self, request, view):
        scope = getattr(view, "throttle_scope", None)
        self.seconds = None if scope is None else ratelimit.hit(request, scope, self.kind)
        return self.seconds is None

    def wait(self):
        return self.seconds


class ScopedUserRateThrottle(_ScopedRateThrottle):
    """``<scope>_user``: per signed-in user (guests included); anonymous requests pass here."""

    kind = "user"


class ScopedIPRateThrottle(_ScopedRateThrottle):
    """``<scope>_ip``: per client address, everyone from that address together."""

    kind = "ip"
