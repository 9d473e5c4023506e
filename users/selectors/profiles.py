"""Reads of a person: their profile, ranker and swipe history."""

from django.conf import settings
from django.db.models import QuerySet

from .. import rankers
from ..models import Profile, RankingShare, Swipe


def profile_get(*, user) -> Profile:
    """The user's profile; for a user without one yet (made in the admin), an unsaved profile
    with the defaults. Nothing is written: the first swipe (users.services) creates the row."""
    profile = Profile.objects.filter(user=user).first()
    return profile if profile is not None else Profile(user=user)


def ranker_of(profile: Profile) -> rankers.Ranker:
    """The person's ranker: their profile's (an experiment), else the deployment's default.
    users.checks refuses a default that is not in the registry."""
    return rankers.RANKERS[profile.ranker or settings.CITYVIBES["RANKER"]]


def ranking_share_of(*, user) -> RankingShare | None:
    return RankingShare.objects.filter(profile__user=user).first()


def profile_by_share_token(*, token: str) -> Profile | None:
    """The profile whose ranking this share link shows; None for an unknown or ended link."""
    share = RankingShare.objects.filter(token=token).select_related("profile__user").first()
    return None if share is None else share.profile


def profile_ids() -> list[int]:
    return list(Profile.objects.order_by("pk").values_list("pk", flat=True))


def swipes_of(*, user) -> QuerySet[Swipe]:
    return Swipe.objects.filter(user=user).select_related("photo__city").order_by("-id")


def scores_from_history(*, user_id: int) -> tuple[dict[str, float], int]:
    """The running scores the swipe history gives (in swipe order), and the swipe count."""
    scores: dict[str, float] = {}
    swipes = (
        Swipe.objects.filter(user_id=user_id).select_related("photo__model_version").order_by("id")
    )
    count = 0
    for swipe in swipes.iterator(chunk_size=500):
        count += 1
        sign = swipe.sign
        for slug, probability in swipe.photo.probability_by_slug().items():
            scores[slug] = scores.get(slug, 0.0) + sign * probability
    return scores, count
