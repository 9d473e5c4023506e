from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Profiles and swipes"

    def ready(self):
        # The ranker setting's system check (users.E001) is registered when the module loads.
        from . import checks  # noqa: F401
