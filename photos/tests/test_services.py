import pytest

from core.errors import ApplicationError
from photos import imports, services
from photos.catalog import read_city_catalog
from photos.models import City, Photo
from photos.pipeline import StopPipeline
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


def test_import_with_any_bad_line_imports_nothing_and_names_each_line(label_prior):
    pending_photo().__class__.objects.create(image_url="https://a.example/old.jpg")
    text = "\n".join(
        [
            "https://a.example/ok.jpg,paris",
            "ftp://a.example/x.jpg,paris",
            "https://a.example/y.jpg,Atlantis",
            "https://a.example/old.jpg,rome",
            "https://a.example/ok.jpg,tokyo",
            "not a url",
        ]
    )
    with pytest.raises(ApplicationError) as caught:
        imports.photos_import_lines(text=text)
    lines = caught.value.details["lines"]
    assert set(lines) == {"2", "3", "4", "5", "6"}
    assert "Only http:// and https://" in lines["2"]
    assert "Unknown city 'Atlantis'" in lines["3"]
    assert "imported before" in lines["4"]
    assert "Same URL as line 1" in lines["5"]
    assert caught.value.message.startswith("5 of 6 lines have errors")
    assert Photo.objects.count() == 2  # the two made above, none imported


def test_import_needs_lines(db):
    with pytest.raises(ApplicationError, match="No `url,city` lines"):
        imports.photos_import_lines(text="url,city\n\n")


def test_photo_needs_an_image_or_a_valid_url(db):
    with pytest.raises(ApplicationError, match="image file or an image URL"):
        services.photo_create()
    with pytest.raises(ApplicationError, match="Only http"):
        services.photo_create(image_url="javascript:alert(1)")
    with pytest.raises(ApplicationError, match="backslash"):
        services.photo_create(image_url="http://127.0.0.1:8000\\@images.example.com/x.jpg")
    with pytest.raises(ApplicationError, match="user name"):
        services.photo_create(image_url="http://me@images.example.com/x.jpg")
    assert not Photo.objects.exists()


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
    with pytest.raises(StopPipeline, match="off-topic"):
        services.photo_publish(photo_id=photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.REJECTED and photo.queue_position is None
    assert photo.pipeline_step == ""


def test_rejected_photo_leaves_the_deck(published_photos):
    (photo,) = published_photos(1)
    services.photo_reject(photo_id=photo.pk, reason="blurry")
    photo.refresh_from_db()
    assert photo.status == Photo.Status.REJECTED and photo.status_reason == "blurry"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("https://a.example/a\x00b.jpg,paris", "control character (0x0)"),
        ("https://a.example/" + "a" * 2000 + ".jpg,paris", "longer than 2000"),
    ],
)
def test_import_refuses_urls_the_database_cannot_hold(db, line, message):
    with pytest.raises(ApplicationError) as caught:
        imports.photos_import_lines(text=line)
    assert message in caught.value.details["lines"]["1"]


def test_import_of_broken_csv_is_a_clear_error(db):
    with pytest.raises(ApplicationError, match="not valid CSV"):
        imports.photos_import_lines(text='https://a.example/1.jpg,"' + "x" * 200_000)
