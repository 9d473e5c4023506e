"""Admin for the city catalog (photos and import batches: ingest/admin.py)."""

from django.contrib import admin
from django.db.models import Count

from .models import City


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "photo_count"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        # Model versions and people's scores refer to cities by slug.
        return [*self.readonly_fields, "slug"] if obj is not None else self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(photo_count=Count("photos"))

    @admin.display(ordering="photo_count", description="photos")
    def photo_count(self, city):
        return city.photo_count
