"""The API's token authentication, and the compiled-once queries it and the swipe use.

A swipe is a few primary-key lookups, and measured with bench/swipe_profile.py the ORM spent
more CPU building and compiling them (querysets, joins, lookups, SQL text) than the database
spent answering them. ``PreparedQuery`` compiles a queryset once per process and database, then
runs the same SQL with new parameter values; rows come back converted as the ORM converts them.
Used for the queries of every swipe: the token with its user (``TokenAuthentication``), the
profile's lock and the swiped photo (users.services, users.selectors.history)."""

import threading

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

_PLACEHOLDER_BASE = -987_654_321  # parameter values no real id or other parameter can equal


class PreparedQuery:
    """``build(**arguments)`` returns a ``values_list`` queryset; it is built and compiled once
    per database vendor with a placeholder number for each argument, and ``rows(**arguments)``
    runs that SQL with the arguments in the placeholders' places. Only for queries whose
    arguments are plain values (ids, keys) used as parameters, never in the SQL's structure."""

    def __init__(self, build):
        self.build = build
        self._compiled: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def _compile(self, names: tuple[str, ...]) -> tuple:
        placeholders = {name: _PLACEHOLDER_BASE - index for index, name in enumerate(names)}
        queryset = self.build(**placeholders)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        # Django selects a values_list's columns in the order of its names (since 5.2).
        aliases = [alias for _, _, alias in compiler.select]
        if len(aliases) != len(queryset._fields) or any(
            alias not in (None, name)
            for alias, name in zip(aliases, queryset._fields, strict=False)
        ):
            raise ValueError(f"The columns of {self.build.__name__} are not in their order.")
        converters = compiler.get_converters([column for column, _, _ in compiler.select])
        # A placeholder comes back as it was (an id) or as text (a field of text, e.g. a key).
        by_placeholder = {number: name for name, number in placeholders.items()}
        by_placeholder |= {str(number): name for name, number in placeholders.items()}
        slots = [
            by_placeholder.get(param) if type(param) in (int, str) else None for param in params
        ]
        if sum(slot is not None for slot in slots) != len(names):
            raise ValueError(f"Every argument of {self.build.__name__} must be one parameter.")
        return sql, tuple(params), slots, converters

    def rows(self, **arguments) -> list[tuple]:
        key = (connection.vendor, tuple(sorted(arguments)))
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(key[1])
                self._compiled[key] = compiled
        sql, params, slots, converters = compiled
        values = [
            param if slot is None else arguments[slot]
            for param, slot in zip(params, slots, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            found = cursor.fetchall()
        if not converters:
            return found
        rows = []
        for row in found:
            row = list(row)
            for index, (functions, expression) in converters.items():
                for function in functions:
                    row[index] = function(row[index], expression, connection)
            rows.append(tuple(row))
        return rows

    def first(self, **arguments) -> tuple | None:
        found = self.rows(**arguments)
        return found[0] if found else None


def _user_fields() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


_TOKEN_FIELDS = [field.attname for field in Token._meta.concrete_fields]
_token_with_user = PreparedQuery(
    lambda key: Token.objects.filter(key=key).values_list(
        *_TOKEN_FIELDS, *(f"user__{name}" for name in _user_fields())
    )
)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's ``Authorization: Token <key>``, the same answers (an unknown key or an inactive
    user is a 401), with the token and its user read by one compiled-once query."""

    def authenticate_credentials(self, key):
        row = _token_with_user.first(key=key)
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        split = len(_TOKEN_FIELDS)
        user = get_user_model().from_db(connection.alias, _user_fields(), row[split:])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token.from_db(connection.alias, _TOKEN_FIELDS, row[:split])
        token.user = user
        return user, token
