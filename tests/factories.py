"""factory_boy factories and helpers that build rows through the services where it matters."""

import functools
import io
import itertools

import factory
from django.contrib.auth import get_user_model
from PIL import Image

from ml.scoring import label_prior_probabilities
from ml.selectors import model_version_active
from photos import services as photo_services
from photos.models import City, Photo
from users.models import Profile

_counter = itertools.count()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True  # the related profile needs no second save of the user

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("a-long-test-password")
    profile = factory.RelatedFactory("tests.factories.ProfileFactory", factory_related_name="user")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory, profile=None)


def pending_photo(*, city_slug: str | None = "paris") -> Photo:
    """A photo imported by URL, waiting at its first pipeline step (nothing queued)."""
    city = City.objects.get(slug=city_slug) if city_slug else None
    return Photo.objects.create(
        image_url=f"https://images.example.com/{next(_counter)}.jpg",
        city=city,
        pipeline_step="fetch",
    )


@functools.cache
def _tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 140, 160)).save(buffer, format="JPEG")
    return buffer.getvalue()


def published_photo(
    *, city_slug: str = "paris", probabilities=None, image: bytes | None = None
) -> Photo:
    """A photo in the deck as the pipeline leaves one: stored files (``image``, a JPEG, or a tiny
    one), an array from the active version (the label prior unless ``probabilities`` is given),
    published by the publish step's service. The steps themselves are tested in photos/tests."""
    version = model_version_active()
    photo = pending_photo(city_slug=city_slug)
    photo_services.photo_store_validated(
        photo_id=photo.pk,
        image=image or _tiny_jpeg(),
        extension=".jpg",
        normalized=image or _tiny_jpeg(),
        thumbnail=_tiny_jpeg(),
        content_sha256=f"{next(_counter):064x}",
    )
    if probabilities is None:
        probabilities = label_prior_probabilities(classes=version.classes, city_slug=city_slug)
    photo_services.photos_record_scores(scores={photo.pk: probabilities}, model_version=version)
    photo_services.photo_publish(photo_id=photo.pk)
    Photo.objects.filter(pk=photo.pk).update(pipeline_step="")
    return Photo.objects.get(pk=photo.pk)


def stored_published_photos(count: int, cities=("oslo", "paris", "rome")) -> list[Photo]:
    """``count`` deck photos cycling over ``cities``, each with a synthetic photo of its city."""
    from ml.synthetic import city_photo_jpeg

    return [
        published_photo(
            city_slug=cities[i % len(cities)], image=city_photo_jpeg(cities[i % len(cities)], i)
        )
        for i in range(count)
    ]


def attribute_predictions(scores: dict[int, dict[str, float]], *, name: str = "attributes-test"):
    """Record attribute-model outputs on photos ({photo id: {attribute: probability}}) as the
    pipeline's attribute step does, under an active attribute model version named ``name``
    (made on first use, its classes the attributes seen)."""
    from ml.models import ModelVersion
    from photos.records import photo_predictions_record

    labels = sorted({label for row in scores.values() for label in row})
    version, _ = ModelVersion.objects.get_or_create(
        name=name,
        defaults={"kind": ModelVersion.Kind.ATTRIBUTES, "classes": labels, "is_active": True},
    )
    photo_predictions_record(
        kind=ModelVersion.Kind.ATTRIBUTES, model_version=version, scores=scores
    )
    return version
