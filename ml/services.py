"""Scoring photos with the active model version.

Until a CNN is trained (see the ml issue) the active version can be the *label prior*: a photo's
array puts ``LABEL_PRIOR_WEIGHT`` on the city it was collected for and spreads the rest evenly.
It is honest about what it is (its kind says so) and lets the swipe model run end to end."""

from django.db import transaction

from photos import selectors as photo_selectors
from photos import services as photo_services
from photos.models import Photo

from .models import ModelVersion
from .selectors import model_version_active

LABEL_PRIOR_NAME = "label-prior-v1"
LABEL_PRIOR_WEIGHT = 0.6


class CatalogChangedError(RuntimeError):
    """The label prior's class list no longer matches the city catalog."""


def model_version_label_prior_ensure() -> ModelVersion:
    """The label-prior version over the whole city catalog; made active if none is."""
    classes = sorted(photo_selectors.city_names_by_slug())
    with transaction.atomic():
        version, created = ModelVersion.objects.get_or_create(
            name=LABEL_PRIOR_NAME,
            defaults={
                "kind": ModelVersion.Kind.LABEL_PRIOR,
                "classes": classes,
                "description": (
                    f"No CNN: each photo's array is {LABEL_PRIOR_WEIGHT} on its labelled city "
                    "and the rest spread evenly over the other cities."
                ),
            },
        )
        if not created and version.classes != classes:
            raise CatalogChangedError(
                f"The city catalog changed since {LABEL_PRIOR_NAME} was made; create a new version."
            )
        if not ModelVersion.objects.filter(is_active=True).exists():
            version.is_active = True
            version.save(update_fields=["is_active"])
    return version


def label_prior_probabilities(*, classes: list[str], city_slug: str) -> list[float]:
    if city_slug not in classes:
        raise ValueError(f"City '{city_slug}' is not one of the model's classes.")
    rest = (1.0 - LABEL_PRIOR_WEIGHT) / (len(classes) - 1)
    return [LABEL_PRIOR_WEIGHT if slug == city_slug else rest for slug in classes]


def photo_score(*, photo_id: int) -> bool:
    """Score one photo with the active version; True when it got an array.

    A photo that cannot be scored yet (no active version, or an unlabelled photo under the
    label prior) stays pending with the reason written on it."""
    photo = Photo.objects.select_related("city").filter(pk=photo_id).first()
    if photo is None or photo.status == Photo.Status.REJECTED:
        return False
    version = model_version_active()
    if version is None:
        photo_services.photo_mark_pending(photo_id=photo_id, reason="No active model version.")
        return False
    if photo.model_version_id == version.pk and photo.probabilities is not None:
        return True  # already done: running twice is harmless
    if version.kind != ModelVersion.Kind.LABEL_PRIOR:
        photo_services.photo_mark_pending(
            photo_id=photo_id, reason=f"Scoring with a {version.kind} model is not available yet."
        )
        return False
    if photo.city is None or photo.city.slug not in version.classes:
        photo_services.photo_mark_pending(
            photo_id=photo_id,
            reason=f"The label prior needs a city label among the {version.name} classes.",
        )
        return False
    probabilities = label_prior_probabilities(classes=version.classes, city_slug=photo.city.slug)
    photo_services.photo_record_scores(
        photo_id=photo_id, probabilities=probabilities, model_version=version
    )
    return True
