"""Where an attribute model's labels come from in a real deployment: an attributes CSV (image
paths relative to it, names separated by ';') and a folder per attribute; the demo's mixed
styles; and the training command's refusals."""

import io

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ml import attribute_versions
from ml.synthetic import city_photo_jpeg


def _photo(path, slug="kyoto", index=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(city_photo_jpeg(slug, index, 256))
    return path


def test_a_csv_gives_each_image_its_attributes(tmp_path):
    _photo(tmp_path / "photos" / "harbour.jpg")
    _photo(tmp_path / "photos" / "alley.jpg", index=2)
    (tmp_path / "photos" / "notes.jpg").write_text("not an image")
    inside = tmp_path / "inside.csv"
    inside.write_text(
        "image,attributes\n"
        "photos/harbour.jpg, waterfront ;night\n"
        "photos/alley.jpg,\n"
        "photos/notes.jpg,fog\n"
        "../etc/passwd,fog\n"
    )
    pixels, labels, problems = attribute_versions.attribute_data_from_csv(
        path=inside, image_size=32
    )
    assert pixels.shape == (2, 32, 32, 3)
    assert labels == [["night", "waterfront"], []]
    assert [p.split(":")[0] for p in problems] == ["line 4", "line 5"]


def test_a_csv_outside_its_folder_or_without_the_columns_is_refused(tmp_path):
    _photo(tmp_path / "photos" / "harbour.jpg")
    escaping = tmp_path / "labels" / "a.csv"
    escaping.parent.mkdir()
    escaping.write_text("image,attributes\n../photos/harbour.jpg,fog\n")
    with pytest.raises(ValueError, match="No readable images"):
        attribute_versions.attribute_data_from_csv(path=escaping, image_size=32)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("file,tags\nphotos/harbour.jpg,fog\n")
    with pytest.raises(ValueError, match="columns 'image' and 'attributes'"):
        attribute_versions.attribute_data_from_csv(path=wrong, image_size=32)


def test_a_folder_per_attribute_merges_an_image_in_several_folders(tmp_path):
    _photo(tmp_path / "waterfront" / "harbour.jpg")
    _photo(tmp_path / "night" / "harbour.jpg")
    _photo(tmp_path / "none" / "alley.jpg", index=2)
    (tmp_path / "fog" / "broken.jpg").parent.mkdir()
    (tmp_path / "fog" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    pixels, labels, problems = attribute_versions.attribute_data_from_folder(
        root=tmp_path, image_size=32
    )
    by_name = dict(zip(["alley.jpg", "harbour.jpg"], sorted(labels, key=len), strict=True))
    assert pixels.shape == (2, 32, 32, 3)
    assert by_name == {"alley.jpg": [], "harbour.jpg": ["night", "waterfront"]}
    assert len(problems) == 1 and problems[0].startswith("fog/broken.jpg")


def test_mixed_styles_are_reproducible_and_vary_every_attribute():
    first, labels = attribute_versions.mixed_style_photos(count=40, image_size=32, seed=3)
    again, same = attribute_versions.mixed_style_photos(count=40, image_size=32, seed=3)
    assert np.array_equal(first, again) and labels == same
    shown = {name for names in labels for name in names}
    assert {"waterfront", "mountains", "night", "daylight", "snow"} <= shown
    counts = {name: sum(name in names for names in labels) for name in shown}
    assert all(count < 40 for count in counts.values())  # none on every photo


@pytest.mark.django_db
def test_the_command_says_what_is_wrong(tmp_path):
    with pytest.raises(CommandError, match="No stored photos of the demo's cities"):
        call_command("train_attribute_model", "--demo", "--mixed-styles", "0", stdout=io.StringIO())
    with pytest.raises(CommandError, match="is not a folder"):
        call_command(
            "train_attribute_model", "--folder", str(tmp_path / "no"), stdout=io.StringIO()
        )
    with pytest.raises(CommandError, match="epochs"):
        call_command("train_attribute_model", "--demo", "--epochs", "0", stdout=io.StringIO())
