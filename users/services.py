"""Writes for people: guests, registration, swipes, undo, reset, score recomputation, the
Bayesian rankers' stored statistics (RankerState) and the share link of a ranking.

Every write that touches a person's running scores locks their profile row first
(``select_for_update``), so concurrent swipes of one person run one after another and never
lose an update; different people never wait for each other."""

import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core import metrics
from core.auth import PreparedQuery
from core.errors import ApplicationError, ConflictError, NotFoundError

from . import selectors
from .models import Profile, RankerState, RankingShare, Swipe
from .selectors import scores_from_history
from .selectors.history import swipe_target

User = get_user_model()


def _locked_profile(user) -> Profile:
    """The user's profile, row-locked until the transaction ends (created if missing, e.g. for
    a user made in the admin). ``user``: the user or their id."""
    user_id = getattr(user, "pk", user)
    profile = Profile.objects.select_for_update().filter(user_id=user_id).first()
    if profile is None:
        Profile.objects.get_or_create(user_id=user_id)
        profile = Profile.objects.select_for_update().get(user_id=user_id)
    return profile


def guest_create() -> tuple[object, Token]:
    """A real user and profile with no credentials yet; the token is how the guest comes back."""
    with transaction.atomic():
        user = User.objects.create_user(username=f"guest-{uuid.uuid4().hex[:12]}")
        user.set_unusable_password()
        user.save(update_fields=["password"])
        Profile.objects.create(user=user, is_guest=True)
        token = Token.objects.create(user=user)
    return user, token


def _require_guest(profile: Profile | None) -> None:
    if profile is None or not profile.is_guest:
        raise ConflictError("You are already registered. Log out to create another account.")


def user_register(*, current_user, username: str, password: str, email: str = ""):
    """Register. A guest is upgraded in place, so their profile and swipes stay theirs."""
    username = User.normalize_username(username)
    guest = current_user if current_user is not None and current_user.is_authenticated else None
    if guest is not None:
        _require_guest(getattr(guest, "profile", None))  # early answer; checked again locked
    if User.objects.filter(username__iexact=username).exists():
        raise ConflictError(f"The username '{username}' is taken.")
    try:
        validate_password(password, user=User(username=username, email=email))
    except ValidationError as error:
        raise ApplicationError(
            " ".join(error.messages), details={"password": error.messages}
        ) from error
    try:
        return _user_save_registration(guest, username=username, password=password, email=email)
    except IntegrityError as error:  # the same name registered concurrently
        raise ConflictError(f"The username '{username}' is taken.") from error


def _user_save_registration(guest, *, username: str, password: str, email: str):
    """Create the account, or upgrade the guest. "Still a guest" is decided under the profile's
    lock: of two registrations of one guest at once, the second waits, then gets the conflict
    instead of renaming the account the first just made."""
    with transaction.atomic():
        if guest is None:
            user = User.objects.create_user(username=username, email=email, password=password)
            Profile.objects.create(user=user)
        else:
            profile = _locked_profile(guest)  # the profile first, as swipes lock it
            _require_guest(profile)
            user = User.objects.select_for_update().get(pk=guest.pk)
            user.username = username
            user.email = email
            user.set_password(password)
            user.save(update_fields=["username", "email", "password"])
            profile.is_guest = False
            profile.save(update_fields=["is_guest", "updated_at"])
        Token.objects.get_or_create(user=user)
    return user


def token_for(user) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(user) -> None:
    Token.objects.filter(user=user).delete()


@dataclass(frozen=True)
class SwipeResult:
    swipe: Swipe
    created: bool
    swipe_count: int  # the person's swipes, this one included


# What a swipe reads and writes of the profile, in the model's order (as Model.from_db takes it).
_SWIPE_FIELDS = ("id", "user_id", "queue_position", "city_scores", "swipe_count")
_profile_for_swipe = PreparedQuery(
    lambda user_id: (
        Profile.objects.select_for_update().filter(user_id=user_id).values_list(*_SWIPE_FIELDS)
    )
)


def _locked_profile_for_swipe(user_id: int) -> Profile:
    """The profile row-locked, with only what a swipe reads and writes (not its ranker etc.)."""
    row = _profile_for_swipe.first(user_id=user_id)
    if row is None:  # a user made in the admin has none until their first write
        Profile.objects.get_or_create(user_id=user_id)
        row = _profile_for_swipe.first(user_id=user_id)
    return Profile.from_db("default", _SWIPE_FIELDS, row)


def swipe_record(*, user, photo_id: int, direction: str) -> SwipeResult:
    """Record a swipe and move the running scores: + the photo's array on right, - on left.

    A retry of the same swipe (same photo, same direction) changes nothing and returns the
    first one with ``created=False``. The other direction on a swiped photo is a conflict.

    Six statements: BEGIN, the lock, the photo with the earlier swipe (read after the lock, so it
    sees every committed swipe of this person), the insert, the update, COMMIT."""
    if direction not in Swipe.Direction.values:
        raise ApplicationError(
            f"direction must be 'left' or 'right', not '{direction}'.",
            details={"direction": ["Must be 'left' or 'right'."]},
        )
    user_id = getattr(user, "pk", user)
    with transaction.atomic():
        profile = _locked_profile_for_swipe(user_id)
        target = swipe_target(user_id=user_id, photo_id=photo_id)
        # The retry check comes first: a retry must succeed even if the photo left the deck since.
        if (existing := target and target.earlier) is not None:
            if existing.direction == direction:
                metrics.SWIPES.labels(direction=direction, outcome="retry").inc()
                return SwipeResult(existing, created=False, swipe_count=profile.swipe_count)
            raise ConflictError(
                f"You already swiped {existing.direction} on photo {photo_id}. "
                "Undo that swipe first to change it.",
            )
        if target is None or not target.in_deck:
            raise NotFoundError(f"Photo {photo_id} does not exist or is not in the swipe deck.")
        swipe = Swipe.objects.create(user_id=user_id, photo_id=photo_id, direction=direction)
        scores, sign = profile.city_scores, swipe.sign
        for slug, probability in target.array.items():
            scores[slug] = scores.get(slug, 0.0) + sign * probability
        profile.swipe_count += 1
        if target.queue_position <= profile.queue_position:
            # Swiped at the front of the queue: move the front past everything already swiped.
            profile.queue_position = selectors.first_unswiped_position(
                user=user_id, from_position=target.queue_position + 1
            )
        profile.save(update_fields=["city_scores", "swipe_count", "queue_position", "updated_at"])
    metrics.SWIPES.labels(direction=direction, outcome="created").inc()
    return SwipeResult(swipe, created=True, swipe_count=profile.swipe_count)


def swipe_undo_last(*, user) -> Swipe:
    """Remove the most recent swipe, take its contribution back out, and put the photo back
    at the front of this person's queue."""
    with transaction.atomic():
        profile = _locked_profile(user)
        swipe = (
            Swipe.objects.filter(user=user)
            .select_related("photo__model_version")
            .order_by("-id")
            .first()
        )
        if swipe is None:
            raise NotFoundError("There is no swipe to undo.")
        profile.swipe_count = max(profile.swipe_count - 1, 0)
        if profile.swipe_count == 0:
            profile.city_scores = {}  # exact zeros, not the float residue of add-then-subtract
        else:
            scores, sign = profile.city_scores, -swipe.sign
            for slug, probability in swipe.photo.probability_by_slug().items():
                scores[slug] = scores.get(slug, 0.0) + sign * probability
        if swipe.photo.queue_position is not None:
            # Everything before the front was swiped, and this photo no longer is.
            profile.queue_position = min(profile.queue_position, swipe.photo.queue_position)
        profile.save(update_fields=["city_scores", "swipe_count", "queue_position", "updated_at"])
        swipe_id = swipe.pk
        swipe.delete()
        swipe.pk = swipe_id  # delete() clears it; the caller reports which swipe was undone
    return swipe


def swipes_reset(*, user) -> int:
    """Forget every swipe of this person; returns how many there were."""
    with transaction.atomic():
        profile = _locked_profile(user)
        deleted, _ = Swipe.objects.filter(user=user).delete()
        RankerState.objects.filter(profile=profile).delete()
        profile.city_scores = {}
        profile.swipe_count = 0
        profile.queue_position = 0
        profile.save(update_fields=["city_scores", "swipe_count", "queue_position", "updated_at"])
    return deleted


def ranker_state_catch_up(*, profile: Profile) -> selectors.RankerStatistics:
    """Bring this person's stored Bayesian statistics (RankerState) up to date and return them:
    the stored ones plus the swipes made since they were saved, or rebuilt from the history when
    they cannot be caught up (users.selectors.ranker_statistics). Saved only when they changed.

    Swipes never write RankerState (~280 KiB at 266 cities; rewriting it on every swipe was most
    of a swipe's cost), so the endpoints that rank with it call this first and pass the result
    to the selectors. The profile row is locked meanwhile, so no swipe or undo of this person
    lands between the reads, and two catch-ups of one person run one after the other."""
    slugs = selectors.catalog().slugs
    with transaction.atomic():
        locked = _locked_profile(profile.user_id)
        found = selectors.ranker_statistics(profile=locked, slugs=slugs)
        if not found.is_stored:
            values = {
                "cities_key": found.cities_key,
                "swipe_count": found.swipe_count,
                "last_swipe_id": found.last_swipe_id,
                "statistics": found.statistics.to_bytes(),
                "updated_at": timezone.now(),
            }
            if not RankerState.objects.filter(profile_id=locked.pk).update(**values):
                RankerState.objects.create(profile_id=locked.pk, **values)
    return found


@dataclass(frozen=True)
class Drift:
    user_id: int
    username: str
    max_difference: float
    swipe_count_was: int
    swipe_count_is: int


def profile_recompute(*, profile_id: int, fix: bool = True) -> Drift | None:
    """Recompute one profile's running scores and swipe count (and, for a Bayesian ranker, its
    statistics) from the swipe history.

    Returns the drift found (or None), and with ``fix`` stores the recomputed values."""
    tolerance = settings.CITYVIBES["SCORE_DRIFT_TOLERANCE"]
    with transaction.atomic():
        profile = Profile.objects.select_for_update().select_related("user").get(pk=profile_id)
        expected, count = scores_from_history(user_id=profile.user_id)
        slugs = set(expected) | set(profile.city_scores)
        difference = max(
            (abs(expected.get(s, 0.0) - profile.city_scores.get(s, 0.0)) for s in slugs),
            default=0.0,
        )
        count_was = profile.swipe_count
        drifted = difference > tolerance or count != count_was
        if fix and (drifted or profile.city_scores != expected):
            profile.city_scores = expected
            profile.swipe_count = count
            profile.save(update_fields=["city_scores", "swipe_count", "updated_at"])
        if fix:
            # The photos may have been rescored (a model activation): the Bayesian statistics
            # are rebuilt from the history at their next catch-up (ranker_state_catch_up).
            RankerState.objects.filter(profile=profile).delete()
    if not drifted:
        return None
    return Drift(profile.user_id, profile.user.get_username(), difference, count_was, count)


def ranking_share_create(*, user) -> RankingShare:
    """A new share link for the user's ranking; the previous one, if any, stops working."""
    with transaction.atomic():
        profile = _locked_profile(user)
        share, _ = RankingShare.objects.update_or_create(
            profile=profile,
            defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()},
        )
    return share


def ranking_share_revoke(*, user) -> bool:
    """End the user's share link; False when there was none."""
    deleted, _ = RankingShare.objects.filter(profile__user=user).delete()
    return deleted > 0
