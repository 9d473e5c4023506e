from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Profiles and swipes"

    def ready(self):
        # The log-in, sign-up and guest forms count in cityvibes.ratelimit; load it with the app
        # so its deployment check (a cache every web process shares) always runs.
        from cityvibes import ratelimit  # noqa: F401
