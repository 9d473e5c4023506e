import pytest

from photos import services
from photos.catalog import read_city_catalog
from photos.models import City, Photo
from tests.factories import pending_photo

pytestmark = pytest.mark.django_db


def test_migration_loads_the_266_city_catalog():
    assert City.objects.count() == 266 == len(read_city_catalog())
    assert City.objects.get(slug="san-francisco-bay-area").name == "San Francisco Bay Area"


def test_catalog_sync_creates_and_renames_without_deleting():
    created, renamed = services.city_catalog_sync(
        rows=[("atlantis", "Atlantis"), ("paris", "Paris, France")]
    )
    assert (created, renamed) == (1, 1)
    assert City.objects.get(slug="paris").name == "Paris, France"
    assert City.objects.count() == 267


@pytest.mark.parametrize(
    ("probabilities", "message"),
    [
        ([1.0], "Expected 266 probabilities"),
        ([-0.5, 1.5] + [0.0] * 264, "non-negative"),
        ([float("nan")] + [0.0] * 265, "finite"),
        ([0.5] + [0.0] * 265, "sum to 1"),
    ],
)
def test_bad_probability_arrays_are_refused(label_prior, probabilities, message):
    photo = pending_photo()
    with pytest.raises(ValueError, match=message):
        services.photos_record_scores(scores={photo.pk: probabilities}, model_version=label_prior)
    photo.refresh_from_db()
    assert photo.probabilities is None and photo.status == Photo.Status.PENDING


def test_scores_never_publish_and_publishing_appends_to_the_queue(label_prior, published_photos):
    uniform = [1 / 266] * 266
    first, second = pending_photo(), pending_photo()
    services.photos_record_scores(
        scores={first.pk: uniform, second.pk: uniform}, model_version=label_prior
    )
    first.refresh_from_db()
    assert first.status == Photo.Status.PENDING and first.queue_position is None
    with pytest.raises(ValueError, match="not validated"):  # no re-encoded image stored
        services.photo_publish(photo_id=first.pk)
    (published,) = published_photos(1)
    for photo in (second, first):
        services.photo_store_validated(
            photo_id=photo.pk, image=b"x", extension=".jpg", normalized=b"x", thumbnail=b"x",
            content_sha256="",
        )  # fmt: skip
        services.photo_publish(photo_id=photo.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (published.queue_position, second.queue_position, first.queue_position) == (0, 1, 2)
    assert services.photo_publish(photo_id=second.pk) == 1  # idempotent

    rescored = [0.0] * 265 + [1.0]
    services.photos_record_scores(scores={second.pk: rescored}, model_version=label_prior)
    second.refresh_from_db()
    assert second.queue_position == 1 and second.probabilities[-1] == 1.0


def test_a_photo_that_left_its_pipeline_is_never_published(label_prior):
    photo = pending_photo()
    services.photo_store_validated(
        photo_id=photo.pk, image=b"x", extension=".jpg", normalized=b"x", thumbnail=b"x",
        content_sha256="",
    )  # fmt: skip
    services.photos_record_scores(scores={photo.pk: [1 / 266] * 266}, model_version=label_prior)
    assert services.photo_reject(photo_id=photo.pk, reason="off-topic") is True
    assert services.photo_reject(photo_id=photo.pk, reason="again") is False
    with pytest.raises(services.NotPublishable, match="off-topic"):
        services.photo_publish(photo_id=photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.REJECTED and photo.queue_position is None
    assert photo.pipeline_step == ""


def test_rejected_photo_leaves_the_deck(published_photos):
    (photo,) = published_photos(1)
    services.photo_reject(photo_id=photo.pk, reason="blurry")
    photo.refresh_from_db()
    assert photo.status == Photo.Status.REJECTED and photo.status_reason == "blurry"
