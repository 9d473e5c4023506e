"""factory_boy factories and helpers that build rows through the services where it matters."""

import itertools

import factory
from django.contrib.auth import get_user_model

from ml.selectors import model_version_active
from ml.services import label_prior_probabilities
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
    city = City.objects.get(slug=city_slug) if city_slug else None
    return Photo.objects.create(
        image_url=f"https://images.example.com/{next(_counter)}.jpg", city=city
    )


def published_photo(*, city_slug: str = "paris", probabilities=None) -> Photo:
    """A photo scored by the active version (label prior unless ``probabilities`` is given)."""
    version = model_version_active()
    photo = pending_photo(city_slug=city_slug)
    if probabilities is None:
        probabilities = label_prior_probabilities(classes=version.classes, city_slug=city_slug)
    return photo_services.photo_record_scores(
        photo_id=photo.pk, probabilities=probabilities, model_version=version
    )
