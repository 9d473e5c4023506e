from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel under every app: errors and the API's error plumbing, DRF helpers, rate
    limits, metrics, middleware, storage and media serving. It imports no app above it."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        # The rate limits' deployment check (a cache every web process shares) is registered
        # when the module loads; load it with the app so `check --deploy` always runs it.
        from . import ratelimit  # noqa: F401
