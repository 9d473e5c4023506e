"""What several of the people endpoints share: a city reference, strict query parsing and a
``limit`` of cities bounded by the catalog."""

from rest_framework import serializers

from photos import selectors as photo_selectors

DEFAULT_CITY_LIMIT = 10


def city_count() -> int:
    """The number of cities in the catalog now (it can grow, so it is counted per request).
    From the slug/name list, one small read: ``photos.selectors.city_list().count()`` would
    group every photo by city to count its annotation."""
    return len(photo_selectors.city_names_by_slug())


class CityRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class PhotoRefSerializer(serializers.Serializer):
    """A deck photo to show: its id and where to load it."""

    id = serializers.IntegerField()
    image_url = serializers.SerializerMethodField()

    def get_image_url(self, photo) -> str:
        return photo_selectors.photo_image_url(photo=photo, request=self.context.get("request"))


def photos_by_id(*, ids) -> dict:
    """The deck photos with these ids (None and ids no longer in the deck are left out)."""
    wanted = [photo_id for photo_id in ids if photo_id is not None]
    return {photo.pk: photo for photo in photo_selectors.photos_in_order(photo_ids=wanted)}


def validated_query(serializer_class, request, context: dict | None = None) -> dict:
    # A plain dict, not the QueryDict: DRF treats an empty form value as "not sent" (the
    # default), but `?limit=` is a malformed number and gets a 400.
    query = serializer_class(data=request.query_params.dict(), context=context or {})
    query.is_valid(raise_exception=True)
    return query.validated_data


class CityLimitQuerySerializer(serializers.Serializer):
    """A ``limit`` of cities: from 1 to the number of cities in the catalog, counted at
    request time (``context["city_count"]``, from ``city_count()``)."""

    limit = serializers.IntegerField(
        min_value=1,
        default=DEFAULT_CITY_LIMIT,
        help_text=(
            f"How many cities, at most the number of cities in the catalog (default "
            f"{DEFAULT_CITY_LIMIT}; a smaller catalog gives all its cities)."
        ),
    )

    def validate_limit(self, value: int) -> int:
        city_count = self.context["city_count"]
        # Only a limit the client sent: the default is not a request for that many cities.
        if "limit" in self.initial_data and value > city_count:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {city_count}, the number of "
                "cities in the catalog."
            )
        return value
