"""The README's demo path in small: seed synthetic photos, train the demo CNN, activate it, and
check it on fresh held-out synthetic photos; plus the recorded ground-truth city styles."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ml import demo
from ml.models import ModelVersion
from ml.synthetic import city_style
from photos.models import Photo

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

STYLES_FILE = Path(__file__).resolve().parents[1] / "data" / "demo_city_styles.json"


def test_seed_demo_trains_a_cnn_that_recognises_fresh_photos_far_above_chance(label_prior):
    call_command("seed_demo", "--cities", "4", "--per-city", "12", "--train")

    version = ModelVersion.objects.get(is_active=True)
    assert version.kind == ModelVersion.Kind.KERAS and version.name == "demo-mobilenetv3small"
    deck = Photo.objects.filter(status=Photo.Status.PUBLISHED)
    assert deck.count() == 48 and not deck.exclude(model_version=version).exists()
    held_out = version.metrics["synthetic_held_out"]
    assert held_out["validation_count"] == 4 * 10 and held_out["chance_accuracy"] == 0.25
    assert held_out["top1_accuracy"] >= 0.6, held_out

    with pytest.raises(CommandError, match="below --min-top1"):
        call_command("evaluate_model", "--per-city", "2", "--min-top1", "1.01")


def test_evaluate_model_refuses_a_version_without_a_cnn(label_prior):
    with pytest.raises(CommandError, match="not a trained CNN"):
        call_command("evaluate_model")


def test_recorded_city_styles_are_the_ones_the_drawings_use():
    recorded = json.loads(STYLES_FILE.read_text())
    assert sorted(recorded) == sorted(demo.DEMO_CITIES)
    for slug, style in recorded.items():
        assert style == city_style(slug).as_dict()
