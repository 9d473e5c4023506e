"""My ranked cities, with the liked photos behind the top ones."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from photos import selectors as photo_selectors

from .. import rankers, selectors, services
from .common import CityLimitQuerySerializer, CityRefSerializer, city_count, validated_query


class ReasonSerializer(serializers.Serializer):
    photo = serializers.IntegerField(source="photo.id")
    image_url = serializers.SerializerMethodField()
    city = CityRefSerializer(source="photo.city", allow_null=True)
    contribution = serializers.FloatField(help_text="What this like added to the city's score.")
    look_alike = serializers.BooleanField(
        help_text="The photo is of a city that looks like this one (it explains the city "
        "through the Bayesian rankers' look-alike prior), not of this city."
    )

    def get_image_url(self, reason) -> str:
        return photo_selectors.photo_image_url(
            photo=reason.photo, request=self.context.get("request")
        )


class RankedCitySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField(
        help_text="The ranker's score. baseline: the running score (liked minus disliked "
        "probability); bayesian rankers: the predicted like of a typical photo of the city, "
        "relative to the average photo."
    )
    match = serializers.IntegerField(
        help_text="0-100. 50 is neutral; 100 is your strongest liked city, 0 the most disliked."
    )
    reasons = serializers.SerializerMethodField(
        help_text="Liked photos that raised this city most (with `?reasons=N`)."
    )

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, city) -> list:
        found = self.context.get("reasons", {}).get(city.slug, [])
        return ReasonSerializer(found, many=True, context=self.context).data


class RecommendationsApi(APIView):
    class RecommendationsQuerySerializer(CityLimitQuerySerializer):
        reasons = serializers.IntegerField(
            min_value=0,
            max_value=10,
            default=0,
            help_text=(
                "For each of the top cities (the first REASON_CITIES liked ones), up to this many "
                "liked photos that raised it most (0: none)."
            ),
        )

    @extend_schema(
        tags=["recommendations"],
        summary="My ranked cities",
        parameters=[RecommendationsQuerySerializer],
        responses={
            200: inline_serializer(
                "Recommendations",
                {
                    "swipe_count": serializers.IntegerField(),
                    "city_count": serializers.IntegerField(
                        help_text="Cities the ranking covers (every city in the catalog): "
                        "the largest `limit` this endpoint accepts."
                    ),
                    "ranker": serializers.ChoiceField(
                        choices=list(rankers.RANKERS),
                        help_text="The ranker that ranked these cities.",
                    ),
                    "results": RankedCitySerializer(many=True),
                },
            ),
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        context = {"city_count": city_count()}
        query = validated_query(self.RecommendationsQuerySerializer, request, context)
        profile = selectors.profile_get(user=request.user)
        statistics = None
        if selectors.ranker_of(profile).bayesian:
            # The Bayesian rankers rank from the swipe statistics as they are now: bring the
            # stored ones up to date first (the write), then read.
            statistics = services.ranker_state_catch_up(profile=profile)
        found = selectors.recommendations(
            profile=profile, limit=query["limit"], statistics=statistics
        )
        reasons = selectors.liked_photo_reasons(
            user=request.user,
            slugs=[city.slug for city in found.cities if city.score > 0][
                : settings.CITYVIBES["REASON_CITIES"]
            ],
            per_city=query["reasons"],
        )
        context = {"request": request, "reasons": reasons}
        results = RankedCitySerializer(found.cities, many=True, context=context).data
        return Response(
            {
                "swipe_count": found.swipe_count,
                "city_count": found.city_count,
                "ranker": found.ranker,
                "results": results,
            }
        )
