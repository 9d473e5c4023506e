"""DRF classes named in settings. Kept apart from cityvibes.api, which imports DRF's views:
settings that name a class in a module importing DRF views would import in a circle."""

from rest_framework import exceptions, pagination, parsers


class Pagination(pagination.LimitOffsetPagination):
    default_limit = 50
    max_limit = 300  # a client's `limit` above this is capped (huge numbers included)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus a 400 for nesting too deep to decode (instead of a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from error
