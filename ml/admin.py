"""Admin for model versions."""

from django.contrib import admin

from .models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_active", "class_count", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["name", "kind", "classes", "is_active", "created_at"]

    @admin.display(description="classes")
    def class_count(self, version):
        return len(version.classes)

    def has_add_permission(self, request):
        return False  # versions come from training or the label prior, never typed in by hand
