"""Admin for photos and import batches: how photos enter (the "add photo" form and the import
page, both through the pipeline), what each step found, reject and resume actions. The models
stay in photos; their admin lives here with the pipeline it drives."""

from django.contrib import admin, messages
from django.db import models
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from ml.models import ModelVersion
from photos import predictions, selectors
from photos import services as photo_services
from photos.models import Photo

from . import admin_batches, admin_jobs  # noqa: F401  (they register their admins)
from .forms import PhotoAdminForm, PhotoImportForm
from .pipeline import step_names
from .runner import photo_ingest, pipeline_resume


class PipelineStepFilter(admin.SimpleListFilter):
    """The step each photo waits for, every step of both pipelines named, and "pipeline over"
    for the empty value (Django's default filter showed it as a link with no text)."""

    title = "pipeline step"
    parameter_name = "pipeline_step"
    OVER = "over"

    def lookups(self, request, model_admin):
        steps = dict.fromkeys(step_names("import") + step_names("generated"))
        return [(step, f"waiting for {step}") for step in steps] + [(self.OVER, "pipeline over")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(pipeline_step="" if value == self.OVER else value)


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    change_list_template = "admin/photos/photo/change_list.html"
    form = PhotoAdminForm
    # Short headers and truncated cells (static/css/admin.css): the list fits at 1280 px.
    list_display = [
        "picture",
        "id",
        "city",
        "state",
        "position",
        "top_cities",
        "synthetic",
    ]
    list_display_links = ["picture", "id"]
    list_filter = [
        "status",
        PipelineStepFilter,
        "is_synthetic",
        "batch",
        "model_version",
        ("city", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["city__name", "city__slug", "image_url", "source", "=id"]
    list_select_related = ["city", "model_version"]
    list_per_page = 50
    autocomplete_fields = ["city"]
    readonly_fields = [
        "preview", "remote_url", "top_cities", "attributes", "imagenet_classes", "status",
        "status_reason", "queue_position", "model_version",
        "probabilities", "source", "batch", "pipeline_step", "analysis_table", "duplicate_of",
        "content_sha256", "perceptual_hash", "created_at", "updated_at",
    ]  # fmt: skip
    fields = ["preview", "image", "image_url", "city", "is_synthetic", *readonly_fields[1:]]
    actions = ["reject_photos", "resume_pipeline"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def _image_src(self, photo):
        return selectors.photo_image_url(photo=photo)

    @admin.display(description="photo")
    def picture(self, photo):
        # Only what the validate step stored: a refused photo's remote URL is never loaded here.
        src = photo.thumbnail.url if photo.thumbnail else self._image_src(photo)
        if not src:
            return "no image"
        alt = photo.city.name if photo.city_id else "city photo"
        return format_html(
            '<img src="{}" alt="{}" loading="lazy" width="64" height="64" '
            'style="object-fit:cover;border-radius:4px">',
            src,
            alt,
        )

    @admin.display(description="preview")
    def preview(self, photo):
        src = self._image_src(photo) if photo.pk else ""
        if not src:
            return "No validated image stored."
        return format_html('<img src="{}" alt="" style="max-width:320px">', src)

    @admin.display(description="status", ordering="status")
    def state(self, photo):
        return format_html(
            '<span title="{}">{}</span>',
            photo.status_reason or photo.get_status_display(),
            photo.status,
        )

    @admin.display(description="queue", ordering="queue_position")
    def position(self, photo):
        return photo.queue_position

    @admin.display(description="demo", boolean=True, ordering="is_synthetic")
    def synthetic(self, photo):
        return photo.is_synthetic

    @admin.display(description="hosted at")
    def remote_url(self, photo):
        # Text, never a link: nobody checked what that address serves now (a refused loopback
        # URL included); the admin's browser loads only what the validate step stored.
        return photo.image_url or "-"

    @admin.display(description="top cities")
    def top_cities(self, photo):
        pairs = selectors.photo_top_cities(photo=photo, limit=5)
        if not pairs:
            return "not scored"
        text = ", ".join(f"{slug} {p:.2f}" for slug, p in pairs)
        return format_html('<span class="truncate" title="{}">{}</span>', text, text)

    def _prediction(self, photo, kind: str, limit: int):
        scores = predictions.photo_predictions(photo_ids=[photo.pk], kind=kind).get(photo.pk)
        if not scores:
            return f"no active {kind} model has described it yet"
        top = list(scores.items())[:limit]
        return format_html_join(", ", "{} {}", ((label, f"{p:.2f}") for label, p in top))

    @admin.display(description="attributes (probability each)")
    def attributes(self, photo):
        return self._prediction(photo, ModelVersion.Kind.ATTRIBUTES, limit=15)

    @admin.display(description="ImageNet top-5")
    def imagenet_classes(self, photo):
        return self._prediction(photo, ModelVersion.Kind.IMAGENET, limit=5)

    @admin.action(
        description="Reject selected photos (take them out of the deck)", permissions=["change"]
    )
    def reject_photos(self, request, queryset):
        rejected = sum(
            photo_services.photo_reject(
                photo_id=photo_id, reason=f"Rejected by {request.user} in the admin."
            )
            for photo_id in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"Rejected {rejected} photos.", messages.SUCCESS)

    @admin.display(description="analysis")
    def analysis_table(self, photo):
        if not photo.analysis:
            return "-"
        rows = (
            (
                step,
                "-" if record.get("duration_ms") is None else f"{record['duration_ms']} ms",
                record.get("error") or "ok",
                ", ".join(f"{k}: {v}" for k, v in (record.get("output") or {}).items())[:400],
            )
            for step, record in photo.analysis.items()
        )
        return format_html(
            "<table><tr><th>step</th><th>time</th><th>result</th><th>output</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.action(description="Resume the pipeline of failed photos", permissions=["change"])
    def resume_pipeline(self, request, queryset):
        resumed = pipeline_resume(photo_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Queued {resumed} photos again.", messages.SUCCESS)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return [field for field in self.readonly_fields if field != "remote_url"]
        # A photo's image comes only from its pipeline (an edited file would skip validation:
        # add a new photo instead). Once scored, the label belongs to the array too.
        if obj.status != Photo.Status.PENDING:
            return [*self.readonly_fields, "image", "city"]
        return [*self.readonly_fields, "image"]

    def get_fields(self, request, obj=None):
        # An existing photo's URL shows as text (remote_url), never as Django's link.
        if obj is None:
            return [field for field in self.fields if field != "remote_url"]
        return [field for field in self.fields if field != "image_url"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = photo_ingest(
            image_url=obj.image_url,
            image_file=form.cleaned_data.get("image") or None,
            city=obj.city,
            source="admin",
            is_synthetic=obj.is_synthetic,
        )  # through the import pipeline, like every other photo
        obj.pk = created.pk

    def get_urls(self):
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="photos_photo_import",
            )
        ]
        return custom + super().get_urls()

    def import_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        posted = request.method == "POST"
        form = PhotoImportForm(request.POST, request.FILES) if posted else PhotoImportForm()
        if posted and form.is_valid():
            batch = form.save(user=request.user)
            if batch is not None:
                self.message_user(
                    request,
                    f"Queued {batch.total} photos as import #{batch.pk}. Each goes through the "
                    "analysis pipeline; follow its progress here.",
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:photos_importbatch_change", args=[batch.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Import photos",
        }
        return TemplateResponse(request, "admin/photos/photo/import.html", context)
