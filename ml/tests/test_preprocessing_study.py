"""The preprocessing study (ml.preprocessing_study): its perturbations do what they say, the
threshold rule gives the thresholds it states, and the quality gate's defaults are the ones the
recorded study (docs/preprocessing-study.json) derived."""

import importlib
import io
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from ml import preprocessing_report as report
from ml import preprocessing_study as study
from ml import preprocessing_thresholds as threshold_rules
from photos.images import jpeg_quality, quality_measures
from tests.pictures import textured

DOCS = Path(__file__).resolve().parents[2] / "docs"
RECORDED = DOCS / "preprocessing-study.json"
GATE_ENV = {
    "min_brightness": "PHOTO_QUALITY_MIN_BRIGHTNESS",
    "min_sharpness": "PHOTO_QUALITY_MIN_SHARPNESS",
    "min_jpeg_quality": "PHOTO_QUALITY_MIN_JPEG_QUALITY",
}


def _mean(image):
    return float(np.asarray(image, dtype=float).mean())


def test_brightness_scales_every_pixel_value():
    image = textured(1, size=(120, 96))
    assert _mean(study.perturb(image, "brightness", 0.5)) == pytest.approx(
        _mean(image) / 2, abs=0.3
    )
    assert study.perturb(image, "brightness", 1.0) is image
    assert np.asarray(study.perturb(image, "brightness", 1.5)).max() == 255  # clipped


def test_blur_lowers_the_gates_sharpness_and_noise_raises_the_spread():
    image = textured(2, size=(240, 180))
    sharpness = [quality_measures(study.perturb(image, "blur", s))["sharpness"] for s in (0, 1, 4)]
    assert sharpness[0] > sharpness[1] > sharpness[2]
    flat = Image.new("RGB", (120, 96), (120, 120, 120))
    noisy = study.perturb(flat, "noise", 20.0, seed=3)
    assert np.asarray(noisy, dtype=float).std() == pytest.approx(20.0, rel=0.1)
    assert np.array_equal(np.asarray(noisy), np.asarray(study.perturb(flat, "noise", 20.0, seed=3)))


def test_jpeg_quality_is_what_an_upload_at_that_quality_decodes_to():
    image = textured(3, size=(240, 180))
    files = {}
    for quality in (10, 90):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        files[quality] = len(buffer.getvalue())
    assert files[10] < files[90] / 2
    low, high = study.perturb(image, "jpeg", 10), study.perturb(image, "jpeg", 90)
    assert low.format == high.format == "JPEG"  # decoded from the file, tables and all
    assert (jpeg_quality(low), jpeg_quality(high)) == (12, 90)  # the estimate reads 10 as 12
    original = np.asarray(image, dtype=float)
    error = [np.abs(np.asarray(im, dtype=float) - original).mean() for im in (low, high)]
    assert error[0] > error[1] + 2


def test_the_normalised_copy_is_what_validate_stores():
    copy = Image.open(io.BytesIO(study.normalized_copy(textured(4, size=(400, 300)), 200)))
    assert (copy.format, copy.size, jpeg_quality(copy)) == ("JPEG", (200, 150), 90)


def test_crossing_interpolates_where_a_curve_first_falls_below_the_bound():
    assert threshold_rules.crossing([1.0, 0.5, 0.25], [0.95, 0.93, 0.55], 0.90) == pytest.approx(
        0.5 + (0.93 - 0.90) / (0.93 - 0.55) * (0.25 - 0.5)
    )
    assert threshold_rules.crossing([0, 2, 4, 8], [0.9, 0.7, 0.95, 0.1], 0.8) == pytest.approx(
        1.0
    )  # first
    assert threshold_rules.crossing([0, 2], [0.7, 0.6], 0.8) == 0.0
    assert threshold_rules.crossing([0, 2, 4], [0.95, 0.9, 0.91], 0.8) is None


def _synthetic_study():
    """Curves of a made-up city model: untouched top-1 0.95, so the bound is 0.90."""
    curves = {
        "brightness": {1.5: 0.5, 1.25: 0.95, 0.7: 0.95, 0.5: 0.94, 0.4: 0.92, 0.3: 0.85},
        "blur": {4.0: 0.95, 6.0: 0.94, 8.0: 0.93, 10.0: 0.80},
        "jpeg": {100: 0.95, 20: 0.93, 15: 0.91, 10: 0.80},
    }
    rows = []
    for kind, level in study.conditions():
        scale = level if kind == "brightness" else 1.0
        top1 = 0.95 if kind == "original" else curves.get(kind, {}).get(level, 0.95)
        if kind == "brightness" and level < 0.3:
            top1 = 0.1
        blur = level if kind == "blur" else 0
        quality = level if kind == "jpeg" else 90
        gate = {  # the 10th percentile differs from the median, so the test tells them apart
            "brightness": {"median": 100 * scale, "p10": 40 * scale},
            "sharpness": {"median": 100 / (1 + blur), "p10": 50 / (1 + blur)},
            "contrast": {"median": 30.0, "p10": 20.0},
            "jpeg_quality": {"median": quality + 3, "p10": quality + 2},
        }
        rows.append(
            {"kind": kind, "level": level, "models": {"city": {"top1": top1}}, "gate": gate}
        )
    return {"conditions": rows, "models": {"city": {"measure": "accuracy"}}, "photos": 1}


def test_the_threshold_rule_on_made_up_curves():
    found = threshold_rules.derive_thresholds(_synthetic_study(), "city", drop=0.05)
    assert found["bound"] == pytest.approx(0.90)
    brightness = 0.4 + (0.92 - 0.90) / (0.92 - 0.85) * (0.3 - 0.4)  # overexposure is ignored
    blur = 8 + (0.93 - 0.90) / (0.93 - 0.80) * 2
    sharpness = 50 / 9 + (blur - 8) / 2 * (50 / 11 - 50 / 9)
    jpeg = 15 + (0.91 - 0.90) / (0.91 - 0.80) * (10 - 15)
    found_brightness = found["perturbations"]["brightness"]
    assert found_brightness["crossing_level"] == pytest.approx(brightness, abs=1e-3)
    assert found_brightness["median_brightness"] == pytest.approx(100 * brightness, abs=0.01)
    assert found["perturbations"]["noise"]["crossing_level"] is None
    assert "threshold" not in found["perturbations"]["noise"]
    assert found["gate"] == {
        "min_brightness": round(40 * brightness, 1),
        "min_sharpness": round(sharpness, 1),
        "min_jpeg_quality": math.ceil(jpeg + 2),  # the estimated quality's 10th percentile
    }
    assert found["gate"] == {"min_brightness": 14.9, "min_sharpness": 5.3, "min_jpeg_quality": 17}
    assert threshold_rules.derive_thresholds(_synthetic_study(), "city", drop=0.9)["gate"] == {}


class _Fixed:
    """A stand-in model: always the same probabilities."""

    def __init__(self, classes):
        self.row = np.linspace(1, 2, len(classes)) / np.linspace(1, 2, len(classes)).sum()

    def predict_on_batch(self, pixels):
        return np.tile(self.row, (len(pixels), 1))


def test_a_study_reports_every_condition_for_every_model():
    photos = [("oslo", textured(5, size=(96, 120))), ("rome", textured(6, size=(96, 120)))]
    subjects = [
        study.Subject("city", _Fixed(["oslo", "rome"]), 32, ["oslo", "rome"], "accuracy"),
        study.Subject("generic", _Fixed(range(5)), 48, [str(i) for i in range(5)], "agreement"),
    ]
    seen = []
    result = study.run_study(photos, subjects, max_side=100, progress=lambda d, t: seen.append(d))
    assert [(r["kind"], r["level"]) for r in result["conditions"]] == study.conditions()
    assert seen[-1] == len(study.conditions())
    for row in result["conditions"]:
        assert row["models"]["city"]["top1"] == 0.5  # always "rome"
        assert row["models"]["city"]["autocontrast_top1"] == 0.5
        assert row["models"]["city"]["hits"] == [0, 1]
        assert len(row["photos"]["sharpness"]) == 2
        assert row["models"]["generic"]["top1"] == 1.0  # agrees with itself
        assert row["gate"]["brightness"]["median"] > 0
    assert "city" in report.markdown_table(result)


def test_the_gate_effect_counts_what_the_gate_admits_and_how_the_model_does_there():
    row = {
        "kind": "brightness",
        "level": 0.3,
        "photos": {
            "brightness": [10.0, 40.0, 50.0, 60.0],
            "contrast": [20.0, 20.0, 5.0, 20.0],
            "sharpness": [9.0, 9.0, 9.0, 9.0],
            "jpeg_quality": [None, 12, None, 90],
        },
        "models": {"city": {"hits": [0, 1, 0, 1], "autocontrast_hits": [1, 1, 1, None]}},
    }
    gate = {"min_brightness": 16.4, "min_contrast": 12.0, "min_sharpness": 1.7}
    assert threshold_rules.admitted(row, gate).tolist() == [False, True, False, True]
    strict = gate | {"min_jpeg_quality": 16}
    assert threshold_rules.admitted(row, strict).tolist() == [False, False, False, True]
    effect = threshold_rules.gate_effect({"conditions": [row]}, "city", strict)
    assert effect["admitted_share"] == {"brightness 0.3": 0.25}
    assert effect["top1"]["brightness"] == {
        "admitted": {"photos": 1, "top1": 1.0, "autocontrast_top1": None},
        "rejected": {"photos": 3, "top1": 0.3333, "autocontrast_top1": 1.0},
    }


def test_the_recorded_study_derives_the_thresholds_it_records():
    recorded = json.loads(RECORDED.read_text())
    thresholds = recorded["thresholds"]
    again = threshold_rules.derive_thresholds(
        recorded, thresholds["model"], drop=thresholds["drop"]
    )
    assert again == thresholds
    assert (DOCS / "preprocessing-study.png").stat().st_size > 10_000


def test_the_gates_defaults_are_the_recorded_studys_thresholds(monkeypatch):
    for variable in GATE_ENV.values():
        monkeypatch.delenv(variable, raising=False)
    defaults = importlib.reload(importlib.import_module("cityvibes.settings.ingest"))
    recorded = json.loads(RECORDED.read_text())["thresholds"]["gate"]
    assert {"min_brightness", "min_sharpness"} <= set(recorded)
    assert {key: defaults.PHOTO_QUALITY_GATE.get(key) for key in recorded} == recorded


def _gate(image_bytes: bytes):
    """ingest.steps.quality on a photo uploaded as ``image_bytes`` (a stand-in with only what the
    step reads). Named by dotted path, as PHOTO_PIPELINE names it: ml may not import ingest."""
    from django.core.files.base import ContentFile
    from django.utils.module_loading import import_string

    uploaded = Image.open(io.BytesIO(image_bytes))
    photo = SimpleNamespace(
        normalized=ContentFile(study.normalized_copy(uploaded, 1600)),
        analysis={"validate": {"output": {"width": uploaded.width, "height": uploaded.height,
                                          "jpeg_quality": jpeg_quality(uploaded)}}},
    )  # fmt: skip
    return import_string("ingest.steps.quality")(photo)


def test_the_gate_rejects_a_photo_compressed_below_min_jpeg_quality(settings):
    from django.utils.module_loading import import_string

    settings.PHOTO_QUALITY_GATE = {**settings.PHOTO_QUALITY_GATE, "min_jpeg_quality": 16}
    files = {}
    for quality in (10, 20):
        buffer = io.BytesIO()
        textured(7, size=(480, 360)).save(buffer, format="JPEG", quality=quality)
        files[quality] = buffer.getvalue()
    assert _gate(files[20])["jpeg_quality"] == 20
    with pytest.raises(import_string("ingest.pipeline.StopPipeline")) as caught:
        _gate(files[10])
    assert caught.value.status == "rejected"
    assert caught.value.reason == "Quality gate: too compressed (JPEG quality 12 < 16)."
    assert caught.value.output["jpeg_quality"] == 12
    buffer = io.BytesIO()
    Image.open(io.BytesIO(files[10])).save(buffer, format="PNG")  # not a JPEG: not checked
    assert _gate(buffer.getvalue())["jpeg_quality"] is None


@pytest.mark.django_db
def test_the_command_studies_a_model_version_of_the_database(cnn_version, tmp_path):
    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "preprocessing_study", "--model", cnn_version.name, "--per-city", "1",
        "--out", str(tmp_path), stdout=out,
    )  # fmt: skip
    written = json.loads((tmp_path / "preprocessing-study.json").read_text())
    assert written["cities"] == ["oslo", "paris", "rome"] and written["photos_per_city"] == 1
    assert {row["kind"] for row in written["conditions"]} >= set(study.PERTURBATIONS)
    assert set(written["thresholds"]["gate"]) <= set(study.GATE_KEYS.values())
    assert (tmp_path / "preprocessing-study.png").stat().st_size > 10_000
    assert (
        "min_brightness: the curves give" in out.getvalue() or "No city CNN" not in out.getvalue()
    )


@pytest.mark.django_db
def test_the_command_refuses_an_unknown_or_unusable_model(label_prior, tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="No model version named nope"):
        call_command("preprocessing_study", "--model", "nope", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="not a trained CNN"):
        call_command("preprocessing_study", "--model", label_prior.name, "--out", str(tmp_path))
