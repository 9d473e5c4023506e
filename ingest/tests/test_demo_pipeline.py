"""The README's demo path in small: seed synthetic photos, train the demo CNN and attribute
model, activate them and the ImageNet classifier, and check them on fresh held-out synthetic
photos; the recorded ground-truth city styles; and that the
generated photos pass the intake's quality gate like any uploaded photo."""

import io
import json
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

import ml
from ingest.runner import photo_ingest
from ml.models import ModelVersion
from ml.synthetic import DEMO_CITIES, city_photo_jpeg, city_style
from photos.models import City, Photo, PhotoPrediction
from photos.selectors import photo_image_url

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

STYLES_FILE = Path(ml.__file__).resolve().parent / "data" / "demo_city_styles.json"


def test_seed_demo_trains_a_cnn_that_recognises_fresh_photos_far_above_chance(label_prior):
    call_command("seed_demo", "--cities", "4", "--per-city", "12", "--train")

    active = {v.kind: v for v in ModelVersion.objects.filter(is_active=True)}
    assert set(active) == {"city", "attributes", "imagenet"}
    version = active["city"]
    assert version.name == "demo-efficientnetlite0"
    assert (
        version.backbone == "efficientnetlite0" and version.training_params["weights"] == "imagenet"
    )
    assert "ImageNet, offline" in version.training_params["weights_source"]
    assert active["imagenet"].status == ModelVersion.Status.READY
    deck = Photo.objects.filter(status=Photo.Status.PUBLISHED)
    assert deck.count() == 48 and not deck.exclude(model_version=version).exists()
    # Every photo carries every kind's output: the attributes and ImageNet's top classes.
    for kind, model in (("attributes", active["attributes"]), ("imagenet", active["imagenet"])):
        recorded = PhotoPrediction.objects.filter(kind=kind, model_version=model)
        assert recorded.count() == 48, kind
    attributes = active["attributes"].metrics["synthetic_held_out"]
    assert attributes["seen_cities"]["cities"] == sorted(DEMO_CITIES[:4])
    assert attributes["seen_cities"]["mean_auc"] >= 0.9, attributes["seen_cities"]
    held_out = version.metrics["synthetic_held_out"]
    assert held_out["validation_count"] == 4 * 10 and held_out["chance_accuracy"] == 0.25
    assert held_out["top1_accuracy"] >= 0.8, held_out

    with pytest.raises(CommandError, match="below --min-top1"):
        call_command("evaluate_model", "--per-city", "2", "--min-top1", "1.01")


def test_evaluate_model_refuses_a_version_without_a_cnn(label_prior):
    with pytest.raises(CommandError, match="not a trained CNN"):
        call_command("evaluate_model")


def test_recorded_city_styles_are_the_ones_the_drawings_use():
    recorded = json.loads(STYLES_FILE.read_text())
    assert sorted(recorded) == sorted(DEMO_CITIES)
    for slug, style in recorded.items():
        assert style == city_style(slug).as_dict()


@pytest.mark.django_db
def test_seed_demo_fills_the_deck_through_the_generated_pipeline(
    settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", cities=3, per_city=2, stdout=io.StringIO())
    photos = Photo.objects.all()
    assert photos.count() == 6
    for photo in photos:
        assert photo.is_synthetic and photo.status == Photo.Status.PUBLISHED
        assert photo.pipeline == Photo.Pipeline.GENERATED and photo.pipeline_step == ""
        assert set(photo.analysis) == {
            "validate", "dedupe", "score", "score_attributes", "score_imagenet", "publish",
        }  # fmt: skip
        assert photo.content_sha256 and photo.perceptual_hash and not photo.incoming
        assert photo.image.name.endswith(".jpg") and photo_image_url(photo=photo)
    assert sorted(p.queue_position for p in photos) == list(range(6))
    labels_in_queue_order = [p.city.slug for p in photos.order_by("queue_position")]
    assert labels_in_queue_order != sorted(labels_in_queue_order)  # shuffled, not city by city

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "exist already" in out.getvalue() and Photo.objects.count() == 6

    # a byte-identical copy of a demo photo, uploaded, is a duplicate, not a new photo
    city = photos.first().city
    copy = ContentFile(city_photo_jpeg(city.slug, 0, settings.DEMO_PHOTO_WIDTH), name="x.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = photo_ingest(image_file=copy, city=city)
    uploaded.refresh_from_db()
    assert uploaded.status == Photo.Status.DUPLICATE
    assert uploaded.status_reason.startswith("Exact duplicate")
    assert uploaded.duplicate_of.is_synthetic


@pytest.mark.django_db
def test_generated_photos_pass_the_import_pipelines_quality_gate(
    label_prior, django_capture_on_commit_callbacks
):
    # Uploaded like anyone's photo (the import pipeline, quality gate included): every demo city,
    # so every weather and time of day, fog and night too, is bright, contrasted and sharp enough.
    cities = {city.slug: city for city in City.objects.filter(slug__in=DEMO_CITIES)}
    with django_capture_on_commit_callbacks(execute=True):
        for slug in DEMO_CITIES:
            upload = ContentFile(city_photo_jpeg(slug, 5), name=f"{slug}.jpg")
            photo_ingest(image_file=upload, city=cities[slug])
    photos = Photo.objects.all()
    assert photos.count() == len(DEMO_CITIES)
    for photo in photos:
        assert photo.status == Photo.Status.PUBLISHED, (photo.city.slug, photo.status_reason)
        assert photo.pipeline == Photo.Pipeline.IMPORT and "quality" in photo.analysis
