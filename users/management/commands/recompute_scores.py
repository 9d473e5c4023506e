"""Recompute running scores from swipe histories and report any drift."""

from django.core.management.base import BaseCommand, CommandError
from rich.progress import track

from users import services
from users.models import Profile


class Command(BaseCommand):
    help = (
        "Recompute every profile's running per-city scores and swipe count from its swipe "
        "history (the source of truth) and report profiles that had drifted. Fixes them unless "
        "--check is given; with --check, exits with status 1 when any drift is found."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report only; change nothing.")
        parser.add_argument("--user", help="Only this username.")

    def handle(self, *args, check, user, **options):
        profiles = Profile.objects.order_by("pk")
        if user:
            profiles = profiles.filter(user__username=user)
            if not profiles.exists():
                raise CommandError(f"No profile for user '{user}'.")
        ids = list(profiles.values_list("pk", flat=True))
        drifts = [
            drift
            for profile_id in track(ids, description="Recomputing scores", disable=len(ids) < 50)
            if (drift := services.profile_recompute(profile_id=profile_id, fix=not check))
        ]
        for drift in drifts:
            self.stdout.write(
                f"drift: {drift.username}: max score difference {drift.max_difference:.3g}, "
                f"swipe count {drift.swipe_count_was} -> {drift.swipe_count_is}"
            )
        verb = "found" if check else "fixed"
        summary = f"Checked {len(ids)} profiles: {len(drifts)} with drift {verb}."
        if drifts and check:
            raise CommandError(summary, returncode=1)
        self.stdout.write(self.style.SUCCESS(summary))
