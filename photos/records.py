"""Writes the analysis pipeline (ingest/) makes on photos' models: import batches, and each
step's record on a photo, under the photo's row lock."""

from django.core.files import File
from django.db import transaction

from .models import ImportBatch, Photo, PhotoPrediction
from .services import random_file_name


def batch_create(
    *,
    source: str,
    label: str,
    user=None,
    total: int,
    skipped: list[dict] | None = None,
    archive: File | None = None,
) -> ImportBatch:
    """A new import batch; with ``archive``, waiting for a worker to unpack it (the archive is
    kept in the private storage until then)."""
    batch = ImportBatch(
        source=source,
        label=label[:200],
        created_by=user,
        total=total,
        skipped=skipped or [],
        status=ImportBatch.Status.UNPACKING if archive is not None else ImportBatch.Status.QUEUED,
    )
    if archive is not None:
        batch.archive.save(random_file_name(".zip"), archive, save=False)
    batch.save()
    return batch


def batch_unpacked(*, batch_id: int, skipped: list[dict]) -> None:
    """An archive's photos are all queued (or none could be: then the batch failed); the archive
    is deleted."""
    batch = ImportBatch.objects.get(pk=batch_id)
    imported = batch.photos.count()
    ImportBatch.objects.filter(pk=batch_id).update(
        status=ImportBatch.Status.QUEUED if imported else ImportBatch.Status.FAILED,
        error="" if imported else "No entry of the archive could be imported.",
        total=imported,
        skipped=skipped,
        archive="",
    )
    if batch.archive:
        batch.archive.storage.delete(batch.archive.name)


def batch_fail(*, batch_id: int, error: str) -> None:
    """The batch failed before its photos were queued; its archive (if any) is deleted."""
    batch = ImportBatch.objects.get(pk=batch_id)
    ImportBatch.objects.filter(pk=batch_id).update(
        status=ImportBatch.Status.FAILED, error=error[:2000], archive=""
    )
    if batch.archive:
        batch.archive.storage.delete(batch.archive.name)


def photo_record_step(
    *, photo_id: int, step: str, record: dict, next_step: str, stop: tuple[str, str] | None
) -> Photo | None:
    """Record one step's result (``analysis[step]``) under the photo's row lock and move it on to
    ``next_step`` ("" at the end); ``stop`` = (status, reason) takes it out of its pipeline.
    Returns the photo as recorded (with its city), or None when nothing was recorded: a
    concurrent run of the same step got there first, or the photo left its pipeline meanwhile."""
    with transaction.atomic():
        photo = (
            Photo.objects.select_related("city")
            .select_for_update(of=("self",))
            .filter(pk=photo_id)
            .first()
        )
        if photo is None or photo.pipeline_step != step:
            return None
        photo.analysis = {**photo.analysis, step: record}
        photo.pipeline_step = next_step
        fields = ["analysis", "pipeline_step", "updated_at"]
        if stop is not None:
            photo.status, photo.status_reason = stop[0], stop[1][:2000]
            fields += ["status", "status_reason"]
        photo.save(update_fields=fields)
    return photo


def photos_claim_at_step(
    *,
    step: str,
    pipeline: str,
    photo_ids: tuple[int, ...] = (),
    fill: int = 0,
    exclude: tuple[int, ...] = (),
) -> list[Photo]:
    """Claim photos pending at ``step`` for a micro-batch, inside the caller's transaction (row
    locks until it ends): those of ``photo_ids`` (the batch's own; waiting for a lock another
    transaction holds on one), then up to ``fill`` more of ``pipeline`` that no other batch holds
    (skipped with PostgreSQL's SKIP LOCKED; SQLite runs one writer at a time), that wait without
    a reason (those are retried by their own tasks) and are not in ``exclude``. Photos no longer
    pending at ``step`` are left out."""
    waiting = Photo.objects.select_related("city").filter(
        status=Photo.Status.PENDING, pipeline_step=step
    )
    claimed = list(waiting.select_for_update(of=("self",)).filter(pk__in=photo_ids).order_by("pk"))
    if fill > 0:
        taken = {*photo_ids, *exclude}
        claimed += (
            waiting.select_for_update(of=("self",), skip_locked=True)
            .filter(pipeline=pipeline, status_reason="")
            .exclude(pk__in=taken)
            .order_by("pk")[:fill]
        )
    return claimed


def photo_record_failure(*, photo_id: int, step: str, error: str) -> None:
    """A step kept failing: the photo is marked failed (out of the deck) with the reason; the
    step stays recorded as next, so it can be resumed."""
    with transaction.atomic():
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is None or photo.pipeline_step != step or photo.status != Photo.Status.PENDING:
            return
        photo.analysis = {
            **photo.analysis,
            step: {"output": {}, "duration_ms": None, "error": error},
        }
        photo.status = Photo.Status.FAILED
        photo.status_reason = f"Step '{step}' failed: {error}"[:2000]
        photo.save(update_fields=["analysis", "status", "status_reason", "updated_at"])


def photos_back_to_pending(*, photo_ids: list[int]) -> list[tuple[int, str]]:
    """Failed photos back to pending at the step that failed; (photo id, step) of each of them
    and of the pending ones, for the caller to queue again (after commit)."""
    resumable = []
    with transaction.atomic():
        for photo in (
            Photo.objects.select_for_update()
            .filter(pk__in=photo_ids, status__in=[Photo.Status.PENDING, Photo.Status.FAILED])
            .exclude(pipeline_step="")
        ):
            if photo.status == Photo.Status.FAILED:
                photo.status, photo.status_reason = Photo.Status.PENDING, ""
                photo.save(update_fields=["status", "status_reason", "updated_at"])
            resumable.append((photo.pk, photo.pipeline_step))
    return resumable


def photo_predictions_record(
    *, kind: str, model_version, scores: dict[int, dict[str, float]]
) -> int:
    """Store (replace) what a model of ``kind`` said about photos: {photo id: {label:
    probability}}, most likely first. Every value is checked before anything is written;
    deleted photos are skipped. Returns how many photos got the prediction."""
    for photo_id, labelled in scores.items():
        if not labelled or not all(0.0 <= float(p) <= 1.0 for p in labelled.values()):
            raise ValueError(f"Photo {photo_id}: prediction scores must be probabilities.")
    with transaction.atomic():
        present = set(Photo.objects.filter(pk__in=scores).values_list("pk", flat=True))
        rows = [
            PhotoPrediction(
                photo_id=photo_id,
                kind=kind,
                model_version=model_version,
                scores={label: round(float(p), 6) for label, p in labelled.items()},
            )
            for photo_id, labelled in scores.items()
            if photo_id in present
        ]
        PhotoPrediction.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["photo", "kind"],
            update_fields=["model_version", "scores", "updated_at"],
        )
    return len(rows)
