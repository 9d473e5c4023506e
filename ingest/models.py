"""Ingestion's own state: the switch that pauses the analysis pipeline (the photos and batches
it works on are photos' models)."""

from django.conf import settings
from django.db import models


class PipelineSwitch(models.Model):
    """One row (pk 1; none means running): while ``paused``, the runner leaves every photo
    pending at its step (ingest.runner.pipeline_run_step); resuming queues them all again
    (ingest.switch.ingestion_resume). Its admin page is the jobs page (ingest/admin_jobs.py)."""

    SINGLETON_ID = 1

    paused = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "jobs"
        verbose_name_plural = "jobs"

    def __str__(self) -> str:
        return "Ingestion paused" if self.paused else "Ingestion running"
