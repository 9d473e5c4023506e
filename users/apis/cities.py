"""Cities that look alike to the CNN (the Bayesian rankers' look-alike prior)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.errors import NotFoundError
from photos import selectors as photo_selectors

from .. import selectors
from .common import CityLimitQuerySerializer, CityRefSerializer, city_count, validated_query


class SimilarCitiesApi(APIView):
    class SimilarCitySerializer(serializers.Serializer):
        slug = serializers.CharField()
        name = serializers.CharField()
        similarity = serializers.FloatField(
            help_text="-1 to 1: cosine similarity of the cities' photos' mean log-probability "
            "arrays (1: the CNN hesitates between the same cities on both)."
        )

    @extend_schema(
        tags=["recommendations"],
        summary="Cities that look like this one",
        description=(
            "Most similar first, from the CNN's probability arrays of the deck's photos. The "
            "Bayesian rankers use the same similarity as their prior (a like also lifts "
            "look-alike cities) and for look-alike reasons."
        ),
        parameters=[CityLimitQuerySerializer],
        responses={
            200: inline_serializer(
                "SimilarCities",
                {"city": CityRefSerializer(), "results": SimilarCitySerializer(many=True)},
            ),
            **error_responses(400, 401, 404),
        },
    )
    def get(self, request, slug):
        context = {"city_count": city_count()}
        limit = validated_query(CityLimitQuerySerializer, request, context)["limit"]
        found = selectors.similar_cities(slug=slug, limit=limit)
        city = photo_selectors.city_get(slug=slug)
        if found is None or city is None:
            raise NotFoundError(f"There is no city '{slug}'.")
        results = self.SimilarCitySerializer(found, many=True).data
        return Response({"city": {"slug": city.slug, "name": city.name}, "results": results})
