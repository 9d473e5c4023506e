"""Rate limits per action, the one place every door counts them: the API's throttles
(core.drf) and the browser forms (log-in, admin log-in, sign-up, guest start) call ``hit`` or
``attempt`` with the action's scope, so an attempt through one door uses the budget of the others.

A limit is ``settings.API_THROTTLE_RATES["<scope>_<kind>"]`` ("<n>/<sec|min|hour|day>", None:
off), read on every call. Kinds: ``user`` (the signed-in user), ``ip`` (the client address) and
``account`` (the account a log-in names, from any address). Counters live in the shared Django
cache (``CACHE_URL``): a window opens at the first hit and holds at most n hits; the count is
incremented atomically, so parallel requests cannot slip past it. On Redis (production) a count
is one round trip (a script: increment, and the expiry of a new window)."""

import functools
import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_address(request) -> str | None:
    """REMOTE_ADDR, or with NUM_PROXIES trusted proxies in front, the address the farthest of them
    saw in X-Forwarded-For (DRF's rule, so the API and the forms agree)."""
    return throttling.BaseThrottle().get_ident(request)


def _ident(request, kind: str, account: str | None) -> str | None:
    if kind == "user":
        user = getattr(request, "user", None)
        return str(user.pk) if user is not None and user.is_authenticated else None
    if kind == "ip":
        return client_address(request)
    if kind == "account" and account:
        # The name as the log-in looks it up (NFKC), lower-cased: "Alice" and "alice" share one.
        return get_user_model().normalize_username(account).lower()
    return None


# One round trip to Redis per count: the increment, and the window's expiry set when it has
# none (a new window), atomically in one script; the answer is (hits, milliseconds left).
_WINDOW_SCRIPT = """
local hits = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {hits, left}
"""


@functools.lru_cache(maxsize=8)
def _redis_window(location) -> object:
    """The window script bound to a client of the Redis cache at ``location`` (per process: the
    client shares its connection pool between threads). Made through Django's own backend, so
    the cache's OPTIONS apply; a client made per call, as the backend does, costs ~0.3 ms."""
    return caches["default"]._cache.get_client(write=True).register_script(_WINDOW_SCRIPT)


def _count(key: str, duration: int) -> tuple[int, float]:
    """One more hit in the key's current window; (hits in it, seconds until it closes)."""
    if isinstance(caches["default"], RedisCache):
        location = settings.CACHES["default"]["LOCATION"]
        window = _redis_window(location if isinstance(location, str) else tuple(location))
        hits, left_ms = window(keys=[cache.make_key(key)], args=[duration * 1000])
        return int(hits), int(left_ms) / 1000
    # Any other backend: the window's opening time is part of the counter's name, so a counter
    # that outlives its window (an expiry between a backend's "exists" and "increment" can
    # re-create it with none) is never read again.
    opened = cache.get_or_set(f"{key}:opened", time.time(), timeout=duration)
    counter = f"{key}:{opened}"
    cache.add(counter, 0, timeout=duration)
    try:
        hits = cache.incr(counter)
    except ValueError:  # the window closed between the two calls: count this as a first hit
        hits = 1
    return hits, opened + duration - time.time()


def hit(request, scope: str, kind: str, *, account: str | None = None) -> int | None:
    """Count one attempt at ``scope`` against its ``kind`` limit; the seconds to wait when the
    limit is reached (the attempt must be refused), else None. No rate, or nobody to count
    (``user`` for an anonymous request, ``account`` without a name): None."""
    rate = settings.API_THROTTLE_RATES.get(f"{scope}_{kind}")
    ident = _ident(request, kind, account)
    if rate is None or ident is None:
        return None
    number, period = rate.split("/")
    duration = _PERIODS[period[0]]
    # Hashed: any client string makes a valid key for every cache backend, and names stay private.
    digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    count, left = _count(f"ratelimit:{scope}_{kind}:{digest}", duration)
    if count <= int(number):
        return None
    return max(1, math.ceil(left))


def attempt(request, scope: str, *, account: str | None = None) -> int | None:
    """Count one attempt at ``scope`` as the API does: per user and per address (both, as DRF
    runs every throttle), then per account if neither refused and an account is named (the API
    checks it in the view, after the throttles). The longest wait of the limits reached, else
    None."""
    waits = [hit(request, scope, kind) for kind in ("user", "ip")]
    if not any(waits):
        waits.append(hit(request, scope, "account", account=account))
    return max((wait for wait in waits if wait is not None), default=None)


def refusal(action: str, wait: int) -> str:
    """The message a refused form shows, e.g. refusal("log-in attempts", 42)."""
    return f"Too many {action}. Try again in {wait} second{'s' if wait != 1 else ''}."


# Cache backends whose counters every web process shares, and whose increments keep the expiry.
SHARED_CACHES = ("RedisCache", "PyMemcacheCache", "PyLibMCCache")


@checks.register(checks.Tags.security, deploy=True)
def check_shared_cache(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """In production the limits must count in one cache for every web process: with the
    per-process default, five gunicorn workers allow five times every limit."""
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    if backend in SHARED_CACHES:
        return []
    return [
        checks.Warning(
            f"The default cache is {backend}: rate limits (log-in, sign-up, swipes...) count per "
            "process, so several web processes multiply them. Set CACHE_URL=redis://...",
            id="core.W001",
        )
    ]
