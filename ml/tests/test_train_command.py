"""train_city_model end to end on photos the test generates: from the database and a folder."""

import io

import pytest
from django.core.management import CommandError, call_command

from ml.models import ModelVersion
from ml.synthetic import city_photo_jpeg

pytestmark = pytest.mark.django_db

FAST = ["--image-size", "32", "--head-epochs", "2", "--finetune-epochs", "0", "--batch-size", "8"]


def test_training_from_a_folder_tree_stores_an_inactive_ready_version(tmp_path, label_prior):
    for city in ("oslo", "Rome"):  # a slug and a name
        (tmp_path / city).mkdir()
        for index in range(4):
            (tmp_path / city / f"{index}.jpg").write_bytes(city_photo_jpeg(city.lower(), index))
    (tmp_path / "Atlantis").mkdir()
    (tmp_path / "oslo" / "notes.txt").write_text("not an image")
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "train_city_model", "--name", "folder-test", "--folder", str(tmp_path), *FAST,
        stdout=out, stderr=err,
    )  # fmt: skip

    version = ModelVersion.objects.get(name="folder-test")
    assert version.status == ModelVersion.Status.READY and not version.is_active
    assert version.classes == ["oslo", "rome"] and version.artifact.name.endswith(".keras")
    assert {"top1_accuracy", "top5_accuracy", "per_city_accuracy", "expected_calibration_error",
            "most_confused", "training_seconds"} <= set(version.metrics)  # fmt: skip
    assert version.training_params["backbone"] == "efficientnetlite0"
    assert "ImageNet, offline" in version.training_params["weights_source"]
    assert "efficientnetlite0" in version.description and "ImageNet" in version.description
    assert "Atlantis: not a city of the catalog" in err.getvalue()
    assert "notes.txt" in err.getvalue()
    assert "Not active yet" in out.getvalue()


def test_training_errors_are_command_errors(tmp_path, label_prior):
    with pytest.raises(CommandError, match="No labelled photos"):
        call_command("train_city_model", *FAST)
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("train_city_model", "--folder", str(tmp_path / "missing"), *FAST)
    with pytest.raises(CommandError, match="exists already"):
        call_command("train_city_model", "--name", label_prior.name, "--folder", str(tmp_path))
