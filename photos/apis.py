"""Public read endpoints of the photos app: the city catalog."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from cityvibes.api import error_responses

from . import selectors
from .models import City


class CityOutputSerializer(serializers.ModelSerializer):
    photo_count = serializers.IntegerField(read_only=True, help_text="Photos in the swipe deck.")

    class Meta:
        model = City
        fields = ["slug", "name", "photo_count"]


@extend_schema(
    tags=["cities"],
    parameters=[OpenApiParameter("search", str, description="Part of a city name or slug.")],
)
class CityListApi(generics.ListAPIView):
    """All cities of the catalog, by name."""

    permission_classes = [AllowAny]
    serializer_class = CityOutputSerializer

    def get_queryset(self):
        return selectors.city_list(search=self.request.query_params.get("search", "").strip())


@extend_schema(tags=["cities"], responses={200: CityOutputSerializer, **error_responses(404)})
class CityDetailApi(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = CityOutputSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.city_list()
