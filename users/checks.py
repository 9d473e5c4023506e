"""System checks of the people app's settings (run by ``manage.py check``, ``migrate`` and
``runserver``)."""

from django.conf import settings
from django.core import checks

from . import rankers


@checks.register()
def check_ranker_setting(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """settings.CITYVIBES["RANKER"], the default ranker, must name one in the rankers' registry
    (users.rankers.RANKERS)."""
    ranker = getattr(settings, "CITYVIBES", {}).get("RANKER")
    if ranker in rankers.RANKERS:
        return []
    names = ", ".join(rankers.RANKERS)
    return [
        checks.Error(
            f"CITYVIBES['RANKER'] is {ranker!r}, which is not a ranker.",
            hint=f"Set CITYVIBES_RANKER to one of: {names} (users.rankers.RANKERS).",
            obj="settings.CITYVIBES",
            id="users.E001",
        )
    ]
