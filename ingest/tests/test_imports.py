"""Imports of URL lists and CSV lines: checked all or nothing, with the fetcher's own parser."""

import pytest

from core.errors import ApplicationError
from ingest import imports
from ingest.runner import photo_ingest
from photos.models import Photo
from tests.factories import pending_photo

pytestmark = pytest.mark.django_db


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
        photo_ingest()
    with pytest.raises(ApplicationError, match="Only http"):
        photo_ingest(image_url="javascript:alert(1)")
    with pytest.raises(ApplicationError, match="backslash"):
        photo_ingest(image_url="http://127.0.0.1:8000\\@images.example.com/x.jpg")
    with pytest.raises(ApplicationError, match="user name"):
        photo_ingest(image_url="http://me@images.example.com/x.jpg")
    assert not Photo.objects.exists()


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
