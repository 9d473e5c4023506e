"""Profiles (registered users and guests alike) and their swipes."""

from django.conf import settings
from django.db import models

from . import rankers


class Profile(models.Model):
    """A person's state in the app. ``city_scores`` is a cache of the swipe history: it always
    equals the sum over the person's swipes of (+1 right, -1 left) x the photo's array."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    is_guest = models.BooleanField(
        default=False, help_text="Started without signing up; keeps everything on registration."
    )
    queue_position = models.PositiveIntegerField(
        default=0, help_text="Where this person stands in the global photo queue."
    )
    city_scores = models.JSONField(
        default=dict, blank=True, help_text="Running per-city scores: {city slug: score}."
    )
    swipe_count = models.PositiveIntegerField(default=0)
    ranker = models.CharField(
        max_length=20,
        blank=True,
        choices=[(name, name) for name in rankers.RANKERS],
        help_text="Ranker for this person (an experiment); blank: the deployment's default.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user.get_username()}{' (guest)' if self.is_guest else ''}"


class Swipe(models.Model):
    class Direction(models.TextChoices):
        LEFT = "left", "Left (dislike)"
        RIGHT = "right", "Right (like)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="swipes"
    )
    # PROTECT: deleting a swiped photo would silently rewrite people's history; reject it instead.
    photo = models.ForeignKey("photos.Photo", on_delete=models.PROTECT, related_name="swipes")
    direction = models.CharField(max_length=5, choices=Direction.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "photo"], name="users_one_swipe_per_user_photo")
        ]

    def __str__(self) -> str:
        return f"{self.user} swiped {self.direction} on photo #{self.photo_id}"

    @property
    def sign(self) -> int:
        return 1 if self.direction == self.Direction.RIGHT else -1


class RankerState(models.Model):
    """The Bayesian rankers' state for one person, beside the running scores: the swipes'
    sufficient statistics (users.rankers.SwipeStatistics) over the cities in ``cities_key``
    order. Like ``Profile.city_scores`` it is a cache of the swipe history, but a lazy one:
    swipes do not write it; users.services.ranker_state_catch_up (called by the endpoints that
    need it) adds the swipes made since ``last_swipe_id``, or rebuilds it from the history when
    the cities changed, a swipe was undone, or a model version rescored the photos."""

    profile = models.OneToOneField(
        Profile, on_delete=models.CASCADE, primary_key=True, related_name="ranker_state"
    )
    cities_key = models.CharField(max_length=64, help_text="Digest of the ordered city slugs.")
    swipe_count = models.PositiveIntegerField(default=0)
    last_swipe_id = models.BigIntegerField(
        default=0, help_text="The newest swipe included; later ones are added at the next read."
    )
    statistics = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Ranker state of {self.profile} ({self.swipe_count} swipes)"


class RankingShare(models.Model):
    """A read-only link to a person's ranking (/shared/<token>/): whoever holds the token sees
    the ranking as it is now, nobody can guess it (256 random bits), and making a new link or
    revoking it ends the old one."""

    profile = models.OneToOneField(Profile, on_delete=models.CASCADE, related_name="share")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Ranking share of {self.profile}"
