"""A photo's path through a real broker and worker: created -> queued on commit -> scored."""

import time

import pytest
from django.core.files.base import ContentFile

from ml.services import model_version_label_prior_ensure
from ml.synthetic import city_photo_jpeg
from photos import services as photo_services
from photos.models import City, Photo

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_new_photos_are_scored_by_a_real_worker(celery_worker_on_broker):
    model_version_label_prior_ensure()
    city = City.objects.get(slug="reykjavik")
    photos = [
        photo_services.photo_create(
            image_file=ContentFile(city_photo_jpeg("reykjavik", i), name=f"r{i}.jpg"),
            city=city,
            is_synthetic=True,
        )
        for i in range(5)
    ]
    deadline = time.monotonic() + 60
    ids = [photo.pk for photo in photos]
    while time.monotonic() < deadline:
        if Photo.objects.filter(pk__in=ids, status=Photo.Status.PUBLISHED).count() == 5:
            break
        time.sleep(0.2)
    published = Photo.objects.filter(pk__in=ids, status=Photo.Status.PUBLISHED)
    assert published.count() == 5
    assert sorted(published.values_list("queue_position", flat=True)) == list(range(5))
