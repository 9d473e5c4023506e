"""Admin for model versions (with an activate action) and their activations (progress)."""

from django.contrib import admin, messages
from django.utils.html import format_html

from core.errors import ApplicationError

from . import activation as activations
from .models import Activation, ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "architecture",
        "status",
        "is_active",
        "backbone",
        "class_count",
        "validation",
        "created_at",
    ]
    list_filter = ["kind", "architecture", "status", "is_active"]
    search_fields = ["name"]
    readonly_fields = [
        "name", "kind", "architecture", "status", "is_active", "backbone", "image_size", "classes",
        "artifact_file", "preprocessing", "training_params", "metrics", "created_at",
    ]  # fmt: skip
    exclude = ["artifact"]  # shown as artifact_file: a private file has no URL to link
    actions = ["activate"]

    @admin.display(description="artifact")
    def artifact_file(self, version):
        # A private file: its name, not a link (nothing private is served).
        return version.artifact.name or "-"

    @admin.display(description="classes")
    def class_count(self, version):
        return len(version.classes)

    @admin.display(description="validation")
    def validation(self, version):
        """The validation figure of the version's kind: top-1 accuracy (city, ImageNet) or the
        mean ROC AUC over the attributes."""
        for key, label in (("top1_accuracy", "top-1"), ("mean_auc", "mean AUC")):
            value = version.metrics.get(key)
            if value is not None:
                return f"{label} {value:.3f}"
        return "-"

    @admin.action(description="Activate for its kind (rescore every photo; city: recompute scores)")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        try:
            activation = activations.model_version_activate(version_id=queryset.get().pk)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request, f"{activation} started; its progress is under Activations.", messages.SUCCESS
        )

    def has_add_permission(self, request):
        return False  # versions come from training or the label prior, never typed in by hand


@admin.register(Activation)
class ActivationAdmin(admin.ModelAdmin):
    list_display = [
        "model_version",
        "status",
        "progress_bar",
        "photos",
        "profiles",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status"]
    readonly_fields = [
        "model_version", "status", "progress_bar", "photos_total", "photos_done", "photos_scored",
        "profiles_total", "profiles_done", "profiles_drifted", "error", "started_at", "finished_at",
    ]  # fmt: skip
    exclude = ["finished_chunks"]

    @admin.display(description="progress")
    def progress_bar(self, activation):
        percent = round(100 * activation.progress)
        return format_html(
            '<progress value="{}" max="100">{}%</progress> {}%', percent, percent, percent
        )

    @admin.display(description="photos done / scored / total")
    def photos(self, activation):
        return f"{activation.photos_done} / {activation.photos_scored} / {activation.photos_total}"

    @admin.display(description="profiles done / changed / total")
    def profiles(self, activation):
        done, changed = activation.profiles_done, activation.profiles_drifted
        return f"{done} / {changed} / {activation.profiles_total}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
