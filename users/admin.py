"""Read-only admin for profiles and swipes: they change only through swipes in the app."""

from django.contrib import admin
from django.utils.html import format_html_join

from . import selectors
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
    # No top cities in the list: ranking one person is a whole recommendations read (the
    # Bayesian rankers' statistics), too much for 50 rows at once; the profile's page has them.
    list_display = [
        "user",
        "is_guest",
        "swipe_count",
        "queue_position",
        "ranker_name",
        "updated_at",
    ]
    list_filter = ["is_guest"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    fields = [
        "user",
        "is_guest",
        "swipe_count",
        "queue_position",
        "ranker_name",
        "top_cities",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @admin.display(description="ranker")
    def ranker_name(self, profile):
        return selectors.ranker_of(profile).name

    @admin.display(description="top cities (as the person sees them)")
    def top_cities(self, profile):
        # The ranking GET /api/v1/recommendations/ serves (users.selectors.recommendations),
        # read without storing the caught-up statistics: the admin only looks.
        ranked = selectors.recommendations(profile=profile, limit=5).cities
        return (
            format_html_join(
                ", ", "{}. {} {}", ((city.rank, city.name, f"{city.match}") for city in ranked)
            )
            or "-"
        )


@admin.register(Swipe)
class SwipeAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "photo", "direction", "created_at"]
    list_filter = ["direction"]
    search_fields = ["user__username", "=photo__id"]
    list_select_related = ["user", "photo__city"]
    date_hierarchy = "created_at"
