"""Activating a model version: it becomes the active one of its kind, then every photo with an
array is rescored with it in chunked tasks (a city model's arrays; an attribute or ImageNet
model's predictions), then, for a city model, everyone's running scores are recomputed from their
swipes in chunked tasks. The chain and its Celery tasks live together here, so nothing imports in
a circle. Rolling back is activating the older version."""

from celery import Task, shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, ConflictError, NotFoundError
from photos import selectors as photo_selectors
from users import selectors as user_selectors
from users import services as user_services

from .models import Activation, ModelVersion
from .predictions import DESCRIBING_KINDS, photos_describe
from .scoring import photos_rescore


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def model_version_activate(*, version_id: int) -> Activation:
    """Make a version the active one of its kind, then (in queued chunks, after commit) rescore
    every photo with it and, for a city model, recompute everyone's running scores from their
    swipes. Rolling back is activating an older version."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().filter(pk=version_id).first()
        if version is None:
            raise NotFoundError(f"Model version {version_id} does not exist.")
        if version.is_active:
            raise ApplicationError(
                f"{version.name} is already the active {version.kind} version; "
                "activate another version to replace it."
            )
        if version.status != ModelVersion.Status.READY:
            raise ApplicationError(
                f"{version.name} is {version.status}; only ready versions can be activated."
            )
        if version.architecture == ModelVersion.Architecture.KERAS and not version.artifact:
            raise ApplicationError(f"{version.name} has no trained artifact.")
        running = Activation.objects.filter(
            model_version__kind=version.kind,
            status__in=[Activation.Status.RESCORING, Activation.Status.RECOMPUTING],
        ).first()
        if running is not None:
            raise ConflictError(f"{running} is still running; wait for it to finish.")
        ModelVersion.objects.filter(kind=version.kind, is_active=True).exclude(
            pk=version.pk
        ).update(is_active=False)
        version.is_active = True
        version.save(update_fields=["is_active"])
        photo_ids = photo_selectors.photo_ids_with_arrays()
        activation = Activation.objects.create(model_version=version, photos_total=len(photo_ids))
        chunks = _chunks(photo_ids, settings.ML_SCORING_CHUNK_SIZE)

        def queue_rescoring():
            for index, chunk in enumerate(chunks):
                rescore_photos_chunk.delay(activation.pk, index, chunk)
            if not chunks:
                _start_recompute(activation.pk)

        transaction.on_commit(queue_rescoring, robust=True)
    return activation


def _record_chunk(
    *, activation_id: int, phase: str, chunk_key: str, done: int, counted: int, next_step
) -> None:
    """Count one finished chunk of a phase (under the row lock, once per chunk key, so a
    redelivered task is harmless) and, when the phase is complete, run ``next_step`` after
    commit."""
    fields = {
        Activation.Status.RESCORING: ("photos_done", "photos_scored", "photos_total"),
        Activation.Status.RECOMPUTING: ("profiles_done", "profiles_drifted", "profiles_total"),
    }[phase]
    done_field, counted_field, total_field = fields
    with transaction.atomic():
        activation = Activation.objects.select_for_update().filter(pk=activation_id).first()
        if activation is None or activation.status != phase:
            return  # gone, failed or superseded
        if chunk_key in activation.finished_chunks:
            return  # already counted
        activation.finished_chunks.append(chunk_key)
        setattr(activation, done_field, getattr(activation, done_field) + done)
        setattr(activation, counted_field, getattr(activation, counted_field) + counted)
        activation.save()
        if getattr(activation, done_field) >= getattr(activation, total_field):
            transaction.on_commit(lambda: next_step(activation_id), robust=True)


def activation_rescore_chunk(*, activation_id: int, chunk_index: int, photo_ids: list[int]) -> None:
    kind = Activation.objects.filter(pk=activation_id).values_list("model_version__kind", flat=True)
    kind = kind.first()
    if kind in DESCRIBING_KINDS:
        counted = photos_describe(photo_ids=photo_ids, kind=kind)
    else:
        counted = photos_rescore(photo_ids=photo_ids)
    _record_chunk(
        activation_id=activation_id,
        phase=Activation.Status.RESCORING,
        chunk_key=f"photos-{chunk_index}",
        done=len(photo_ids),
        counted=counted,
        next_step=_start_recompute,
    )


def _start_recompute(activation_id: int) -> None:
    """After the rescoring: a city model's arrays change everyone's running scores; the other
    kinds' outputs do not, so their activation is done."""
    profile_ids = user_selectors.profile_ids()
    with transaction.atomic():
        activation = (
            Activation.objects.select_for_update(of=("self",))
            .select_related("model_version")
            .get(pk=activation_id)
        )
        if activation.status != Activation.Status.RESCORING:
            return
        if activation.model_version.kind != ModelVersion.Kind.CITY:
            activation.status = Activation.Status.DONE
            activation.finished_at = timezone.now()
            activation.save(update_fields=["status", "finished_at"])
            return
        activation.status = Activation.Status.RECOMPUTING
        activation.profiles_total = len(profile_ids)
        activation.save(update_fields=["status", "profiles_total"])
    chunks = _chunks(profile_ids, settings.ML_RECOMPUTE_CHUNK_SIZE)
    for index, chunk in enumerate(chunks):
        recompute_profiles_chunk.delay(activation_id, index, chunk)
    if not chunks:
        _finish(activation_id)


def activation_recompute_chunk(
    *, activation_id: int, chunk_index: int, profile_ids: list[int]
) -> None:
    drifted = sum(
        user_services.profile_recompute(profile_id=profile_id, fix=True) is not None
        for profile_id in profile_ids
    )
    _record_chunk(
        activation_id=activation_id,
        phase=Activation.Status.RECOMPUTING,
        chunk_key=f"profiles-{chunk_index}",
        done=len(profile_ids),
        counted=drifted,
        next_step=_finish,
    )


def _finish(activation_id: int) -> None:
    Activation.objects.filter(pk=activation_id, status=Activation.Status.RECOMPUTING).update(
        status=Activation.Status.DONE, finished_at=timezone.now()
    )


def activation_fail(*, activation_id: int, error: str) -> None:
    Activation.objects.filter(
        pk=activation_id, status__in=[Activation.Status.RESCORING, Activation.Status.RECOMPUTING]
    ).update(status=Activation.Status.FAILED, error=error[:2000], finished_at=timezone.now())


# ---- the chain's tasks (named as before the move, so queued messages and routes still match) --


class ActivationTask(Task):
    """Marks the activation failed when one of its chunks fails for good."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        activation_fail(activation_id=args[0], error=f"{type(exc).__name__}: {exc}")


@shared_task(name="ml.tasks.rescore_photos_chunk", base=ActivationTask, acks_late=True)
def rescore_photos_chunk(activation_id: int, chunk_index: int, photo_ids: list[int]) -> None:
    activation_rescore_chunk(
        activation_id=activation_id, chunk_index=chunk_index, photo_ids=photo_ids
    )


@shared_task(name="ml.tasks.recompute_profiles_chunk", base=ActivationTask, acks_late=True)
def recompute_profiles_chunk(activation_id: int, chunk_index: int, profile_ids: list[int]) -> None:
    activation_recompute_chunk(
        activation_id=activation_id, chunk_index=chunk_index, profile_ids=profile_ids
    )
