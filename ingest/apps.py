from django.apps import AppConfig


class IngestConfig(AppConfig):
    """How a photo enters: import sources, the analysis pipeline's steps and runner, the import
    API and admin. The top layer: it imports core, photos, users' neighbours below it and ml."""

    name = "ingest"
    verbose_name = "Photo ingestion"

    def ready(self):
        # The pipelines' system check (every pipeline validates, dedupes, scores and ends with
        # publish) is registered when the module loads.
        from . import pipeline  # noqa: F401
