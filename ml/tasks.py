"""Celery tasks of the ml app: thin wrappers over services, taking primary keys."""

from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=5)
def score_photo(self, photo_id: int) -> bool:
    return services.photo_score(photo_id=photo_id)
