"""Read-only admin for profiles and swipes: they change only through swipes in the app."""

from django.contrib import admin
from django.utils.html import format_html_join

from .models import Profile, Swipe


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Profile)
class ProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "is_guest", "swipe_count", "queue_position", "top_cities", "updated_at"]
    list_filter = ["is_guest"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    fields = [
        "user",
        "is_guest",
        "swipe_count",
        "queue_position",
        "top_cities",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @admin.display(description="top cities")
    def top_cities(self, profile):
        best = sorted(profile.city_scores.items(), key=lambda item: -item[1])[:5]
        return (
            format_html_join(", ", "{} {}", ((slug, f"{score:+.2f}") for slug, score in best))
            or "-"
        )


@admin.register(Swipe)
class SwipeAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "photo", "direction", "created_at"]
    list_filter = ["direction"]
    search_fields = ["user__username", "=photo__id"]
    list_select_related = ["user", "photo__city"]
    date_hierarchy = "created_at"
