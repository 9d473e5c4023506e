"""DRF classes named in settings. Kept apart from cityvibes.api, which imports DRF's views:
settings that name a class in a module importing DRF views would import in a circle."""

from django.conf import settings
from rest_framework import exceptions, pagination, parsers, throttling


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
    """DRF's JSON parser, plus a 400 for nesting too deep to decode (instead of a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from error


class _ScopedRateThrottle(throttling.SimpleRateThrottle):
    """A rate per view scope (the view's ``throttle_scope``), read from
    ``settings.API_THROTTLE_RATES["<scope>_<kind>"]`` on every request, so a setting changed at
    run time (or by a test) applies at once. Views without a scope, and scopes without a rate,
    are not limited."""

    kind = ""

    def __init__(self):  # the rate depends on the view, known only in allow_request
        pass

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", None)
        self.rate = settings.API_THROTTLE_RATES.get(f"{self.scope}_{self.kind}")
        if self.scope is None or self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class ScopedUserRateThrottle(_ScopedRateThrottle):
    """``<scope>_user``: per signed-in user (guests included); anonymous requests pass here."""

    kind = "user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": f"{self.scope}_user", "ident": request.user.pk}


class ScopedIPRateThrottle(_ScopedRateThrottle):
    """``<scope>_ip``: per client address, everyone from that address together."""

    kind = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": f"{self.scope}_ip", "ident": self.get_ident(request)}
