"""Celery tasks of the ml app: thin wrappers over services, taking primary keys."""

from celery import Task, shared_task

from . import services


class ActivationTask(Task):
    """Marks the activation failed when one of its chunks fails for good."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        services.activation_fail(activation_id=args[0], error=f"{type(exc).__name__}: {exc}")


@shared_task(base=ActivationTask, acks_late=True)
def rescore_photos_chunk(activation_id: int, chunk_index: int, photo_ids: list[int]) -> None:
    services.activation_rescore_chunk(
        activation_id=activation_id, chunk_index=chunk_index, photo_ids=photo_ids
    )


@shared_task(base=ActivationTask, acks_late=True)
def recompute_profiles_chunk(activation_id: int, chunk_index: int, profile_ids: list[int]) -> None:
    services.activation_recompute_chunk(
        activation_id=activation_id, chunk_index=chunk_index, profile_ids=profile_ids
    )
