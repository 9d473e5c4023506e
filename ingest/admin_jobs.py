"""The jobs page (/admin/ingest/pipelineswitch/, "Jobs" on the admin index and in the header):
every kind of background work with its active, waiting, failed and done counts, throughput and
ETA (ingest.jobs.jobs_overview), updated every 2 s by static/js/admin-jobs.js from
/api/v1/admin/jobs/; pause and resume ingestion, retry failed photos. The buttons are forms
that work without the script; the script sends them to /api/v1/admin/ingestion/ instead.
Registered by ingest/admin.py."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from . import jobs, switch
from .models import PipelineSwitch


@admin.register(PipelineSwitch)
class JobsAdmin(admin.ModelAdmin):
    """The switch's one row is not edited as a row: its admin page is the jobs page."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.jobs_view)
        return [path("", view, name="ingest_pipelineswitch_changelist")]

    def jobs_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            self._act(request, request.POST.get("action", ""))
            return redirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Jobs",
            "overview": jobs.jobs_overview(),
            "can_change": self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/ingest/jobs.html", context)

    def _act(self, request, action: str) -> None:
        if action == "pause":
            switch.ingestion_pause(user=request.user)
            self.message_user(request, "Ingestion paused: photos wait at their step.")
        elif action == "resume":
            queued = switch.ingestion_resume(user=request.user)
            self.message_user(request, f"Ingestion resumed: queued {queued} photos again.")
        elif action == "retry":
            queued = switch.photos_retry_failed()
            self.message_user(request, f"Queued {queued} failed photos again.")
        else:
            self.message_user(request, "Unknown action.", messages.ERROR)
