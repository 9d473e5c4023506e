"""The ml app's pipeline step: the active city model's probability array for a photo."""

from photos.pipeline import TransientStepError

from . import services


def score(photo) -> dict:
    """Store the active model version's array on the photo (only publish puts it in the deck)."""
    try:
        version, array = services.photo_score_for_pipeline(photo_id=photo.pk)
    except services.CannotScore as reason:
        raise TransientStepError(str(reason)) from reason  # e.g. no model yet: retry later
    top = sorted(zip(version.classes, array, strict=True), key=lambda item: -item[1])[:3]
    return {"model": version.name, "top": [[slug, round(p, 4)] for slug, p in top]}
