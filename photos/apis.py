"""Public read endpoints of the photos app: the city catalog."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from core.api import error_responses

from . import selectors
from .models import City


class CityOutputSerializer(serializers.ModelSerializer):
    photo_count = serializers.IntegerField(read_only=True, help_text="Photos in the swipe deck.")

    class Meta:
        model = City
        fields = ["slug", "name", "photo_count"]


class CitySearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False,
        allow_blank=True,  # an empty search box lists every city
        max_length=100,
        help_text="Part of a city name or slug.",
    )


@extend_schema(
    tags=["cities"],
    parameters=[CitySearchQuerySerializer],
    responses={200: CityOutputSerializer(many=True), **error_responses(400)},
)
class CityListApi(generics.ListAPIView):
    """All cities of the catalog, by name."""

    permission_classes = [AllowAny]
    serializer_class = CityOutputSerializer

    def get_queryset(self):
        query = CitySearchQuerySerializer(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)  # e.g. NUL characters, which PostgreSQL refuses
        return selectors.city_list(search=query.validated_data.get("search", "").strip())


@extend_schema(tags=["cities"], responses={200: CityOutputSerializer, **error_responses(404)})
class CityDetailApi(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = CityOutputSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.city_list()
