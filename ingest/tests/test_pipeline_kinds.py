"""The pipeline records every active model kind on a photo (the city array, the attributes,
ImageNet's top classes: a step per kind in PHOTO_PIPELINE), skips a kind with no active version,
and activating a new attribute version rescores the attributes only."""

import numpy as np
import pytest
from django.core.files.base import ContentFile

from ingest.runner import photo_ingest
from ml import activation, attribute_versions
from ml.attributes import AttributeConfig
from ml.models import ModelVersion
from ml.synthetic import city_photo_jpeg
from photos.images import load_pixels
from photos.models import City, Photo, PhotoPrediction
from photos.predictions import photo_predictions
from users import services as user_services
from users.models import Profile

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _attribute_versions():
    labels = attribute_versions.demo_city_attributes()
    jobs = [(slug, index) for slug in ("amsterdam", "berlin", "kyoto") for index in range(4)]
    pixels = np.stack([load_pixels(city_photo_jpeg(s, i, 256), 64) for s, i in jobs])
    config = AttributeConfig(image_size=64, epochs=3, patience=3)
    return [
        attribute_versions.model_version_train_attributes(
            name=name,
            config=config,
            pixels=pixels,
            labels=[labels[slug] for slug, _ in jobs],
            source="test",
        )
        for name in ("attributes-a", "attributes-b")
    ]


def test_every_active_kind_is_recorded_and_activation_rescores_its_own(label_prior):
    first, second = _attribute_versions()
    activation.model_version_activate(version_id=first.pk)
    cities = {city.slug: city for city in City.objects.filter(slug__in=["paris", "rome"])}
    photos = [
        photo_ingest(
            image_file=ContentFile(city_photo_jpeg(slug, index), name=f"{slug}{index}.jpg"),
            city=cities[slug],
        )
        for index, slug in enumerate(["paris", "rome", "paris"])
    ]
    photos = list(Photo.objects.filter(pk__in=[p.pk for p in photos]).order_by("pk"))
    for photo in photos:
        assert photo.status == Photo.Status.PUBLISHED, photo.status_reason
        assert photo.analysis["score_attributes"]["output"]["model"] == "attributes-a"
        assert photo.analysis["score_imagenet"]["output"] == {"skipped": "no active imagenet model"}
    predictions = PhotoPrediction.objects.filter(kind=ModelVersion.Kind.ATTRIBUTES)
    assert sorted(predictions.values_list("photo_id", flat=True)) == [p.pk for p in photos]
    described = photo_predictions(photo_ids=[photos[0].pk], kind="attributes")[photos[0].pk]
    assert set(described) == set(first.classes)
    assert list(described.values()) == sorted(described.values(), reverse=True)

    person = Profile.objects.create(user=_user()).user
    user_services.swipe_record(user=person, photo_id=photos[0].pk, direction="right")
    arrays = {p.pk: p.probabilities for p in photos}
    scores = dict(Profile.objects.filter(user=person).values_list("user_id", "city_scores"))
    done = activation.model_version_activate(version_id=second.pk)
    done.refresh_from_db()
    assert done.status == done.Status.DONE and done.photos_scored == 3
    assert done.profiles_total == 0 and done.progress == 1.0
    assert set(predictions.values_list("model_version__name", flat=True)) == {"attributes-b"}
    assert not ModelVersion.objects.get(pk=first.pk).is_active
    assert ModelVersion.objects.get(pk=label_prior.pk).is_active  # the city model stays
    assert {p.pk: p.probabilities for p in Photo.objects.all()} == arrays
    assert dict(Profile.objects.filter(user=person).values_list("user_id", "city_scores")) == scores


def _user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("kinds", password="a-long-test-password")
