"""What the attribute model and the ImageNet classifier say about photos, recorded on each photo
(photos' ``PhotoPrediction``) by the pipeline's steps (ingest.steps.score_attributes and
score_imagenet) and, when a version of their kind is activated, by its rescoring chunks. The city
model's arrays are ml.scoring's."""

from core import metrics
from photos import records as photo_records
from photos import selectors as photo_selectors

from .models import ModelVersion
from .scoring import PipelineScores, scoring_problems, stored_pixels, write_while_active
from .selectors import model_version_active

# How many ImageNet classes a photo keeps (the attribute model keeps every attribute).
IMAGENET_TOP_K = 5
DESCRIBING_KINDS = (ModelVersion.Kind.ATTRIBUTES, ModelVersion.Kind.IMAGENET)


def _describe(version: ModelVersion, photos) -> dict[int, dict[str, float]]:
    from . import cnn, runtime
    from .classify import top_classes

    pixels, ids = stored_pixels(version, photos)
    if not ids:
        return {}
    with metrics.SCORING_SECONDS.time():
        rows = cnn.predict(runtime.model_for(version), pixels)
    metrics.PHOTOS_SCORED.labels(model_kind=version.kind).inc(len(ids))
    top_k = len(version.classes) if version.kind == ModelVersion.Kind.ATTRIBUTES else IMAGENET_TOP_K
    return {
        photo_id: {answer["class"]: answer["score"] for answer in top_classes(version, row, top_k)}
        for photo_id, row in zip(ids, rows, strict=True)
    }


def photos_describe(*, photo_ids: list[int], kind: str) -> int:
    """Record the active ``kind`` version's output on photos with an array (as rescoring does
    for the city model); returns how many got it. Nothing to do without an active version."""
    version = model_version_active(kind)
    if version is None:
        return 0
    photos = list(photo_selectors.photos_with_arrays(photo_ids=photo_ids))
    scores = _describe(version, photos)
    write_while_active(
        version,
        lambda: photo_records.photo_predictions_record(
            kind=kind, model_version=version, scores=scores
        ),
    )
    return len(scores)


def photos_describe_for_pipeline(*, photos: list, kind: str) -> PipelineScores | None:
    """The active ``kind`` version's output for photos in the pipeline, in one predict, recorded;
    None when no version of that kind is active (the step has nothing to do). Raises
    CannotScore when the version went out meanwhile."""
    version = model_version_active(kind)
    if version is None:
        return None
    scores = _describe(version, photos)
    if scores:
        write_while_active(
            version,
            lambda: photo_records.photo_predictions_record(
                kind=kind, model_version=version, scores=scores
            ),
        )
    return PipelineScores(version, scores, scoring_problems(version, photos, scores))
