"""Admin for model versions (readable metrics, compare with the active one, activate after a
confirmation, train a new one: the pages are in admin_views.py), their activations and the
training jobs (live progress: static/js/admin-training.js)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from . import admin_selectors, admin_views
from .models import Activation, ModelVersion, TrainingJob


def _progress_bar(fraction: float):
    percent = round(100 * fraction)
    return format_html(
        '<progress value="{}" max="100">{}%</progress> {}%', percent, percent, percent
    )


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
        "artifact_file", "preprocessing", "training_params", "created_at",
    ]  # fmt: skip
    # The metrics are shown as tables and charts (change_form.html), not as a JSON blob.
    exclude = ["artifact", "metrics"]  # artifact_file: a private file has no URL to link
    actions = ["activate"]
    change_form_template = "admin/ml/modelversion/change_form.html"
    change_list_template = "admin/ml/modelversion/change_list.html"

    def get_urls(self):
        def view(function, permission):
            def checked(request, *args, **kwargs):
                if not permission(request):
                    raise PermissionDenied
                return function(self, request, *args, **kwargs)

            return self.admin_site.admin_view(checked)

        pages = [
            ("train/", admin_views.train_view, self.has_train_permission, "train"),
            ("<path:object_id>/compare/", admin_views.compare_view, self.has_view_permission,
             "compare"),
            ("<path:object_id>/activate/", admin_views.activate_view, self.has_change_permission,
             "activate"),
            ("by-name/<slug:name>/", admin_views.by_name_view, self.has_view_permission,
             "by_name"),
        ]  # fmt: skip
        return [
            *(
                path(route, view(function, permission), name=f"ml_modelversion_{name}")
                for route, function, permission, name in pages
            ),
            *super().get_urls(),
        ]

    def has_train_permission(self, request):
        return request.user.has_perm("ml.add_trainingjob")

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "notice": admin_selectors.retraining_notice(),
            "can_train": self.has_train_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        if version is not None:
            extra_context = {
                **(extra_context or {}),
                "version": version,
                "report": admin_views.version_report(version),
                "metrics_recorded": bool(version.metrics),
            }
        return super().change_view(request, object_id, form_url, extra_context)

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

    @admin.action(description="Activate for its kind (asks first: what will be rescored)")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return None
        return redirect(reverse("admin:ml_modelversion_activate", args=[queryset.get().pk]))

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
        return _progress_bar(activation.progress)

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


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    """Started from the model versions' "Train a model" page; its page shows live progress."""

    list_display = [
        "name", "kind", "status", "progress_bar", "epochs_done", "version_link", "created_by",
        "created_at",
    ]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["name"]
    # Status, phase and progress are in the page's live panel (trainingjob/change_form.html).
    readonly_fields = [
        "name", "kind", "params", "version_link", "error", "created_by", "created_at",
        "started_at", "finished_at",
    ]  # fmt: skip
    fields = readonly_fields
    change_form_template = "admin/ml/trainingjob/change_form.html"
    change_list_template = "admin/ml/trainingjob/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model_version", "created_by")

    @admin.display(description="progress")
    def progress_bar(self, job):
        return _progress_bar(job.progress)

    @admin.display(description="epochs")
    def epochs_done(self, job):
        return f"{job.epoch} / {job.epochs}" if job.epochs else "-"

    @admin.display(description="model version")
    def version_link(self, job):
        if job.model_version_id is None:
            return "-"
        url = reverse("admin:ml_modelversion_change", args=[job.model_version_id])
        return format_html('<a href="{}">{}</a>', url, job.model_version.name)

    def has_add_permission(self, request):
        return False  # jobs are started from the "Train a model" page

    def has_change_permission(self, request, obj=None):
        return False
