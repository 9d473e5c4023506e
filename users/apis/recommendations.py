"""My ranked cities with the number shown for each and the photos behind the top ones; one city
as I see it (where it ranks for me and why)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.errors import NotFoundError
from photos import selectors as photo_selectors

from .. import rankers, selectors, services
from ..match import CONFIDENCE_LABELS
from .common import (
    CityLimitQuerySerializer,
    CityRefSerializer,
    PhotoRefSerializer,
    city_count,
    photos_by_id,
    validated_query,
)
from .vibe_serializers import CityAttributesMixin, VibeSerializer

NOT_IN_DECK_CHOICES = {
    "omit": "leave the catalog's cities without deck photos out",
    "list": "list them apart in `not_in_deck` (never ranked)",
}


class ReasonSerializer(serializers.Serializer):
    photo = serializers.IntegerField(source="photo.id")
    image_url = serializers.SerializerMethodField()
    city = CityRefSerializer(source="photo.city", allow_null=True)
    contribution = serializers.FloatField(
        help_text="How much this swipe moved the city's running score (added by a like, taken "
        "away by a nope): the photo's probability for the city."
    )
    look_alike = serializers.BooleanField(
        help_text="The photo is of a city that looks like this one (it explains the city "
        "through the Bayesian rankers' look-alike prior), not of this city."
    )

    def get_image_url(self, reason) -> str:
        return photo_selectors.photo_image_url(
            photo=reason.photo, request=self.context.get("request")
        )


class RankedCitySerializer(CityAttributesMixin, serializers.Serializer):
    rank = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField(
        help_text="The ranker's raw score. baseline: the running score (liked minus disliked "
        "probability); bayesian rankers: the predicted like of a typical photo of the city "
        "relative to the average photo."
    )
    match = serializers.IntegerField(
        min_value=0,
        max_value=100,
        help_text="What the ranking is sorted by; its meaning is the response's `match_kind`. "
        "chance: the chance in % that you like a typical photo of the city (the Bayesian "
        "model's posterior predictive). lean (baseline ranker): 50 is no signal, 1-99, above "
        "50 only after a like of the city, never 100.",
    )
    chance = serializers.FloatField(
        allow_null=True, help_text="chance only: the same chance, 0-1 (null for lean)."
    )
    chance_interval = serializers.SerializerMethodField(
        help_text="chance only: the 80 % credible interval of the chance [low, high]."
    )
    confidence = serializers.ChoiceField(
        choices=list(CONFIDENCE_LABELS),
        help_text="How sure the ranking is about this city: from the width of the chance's "
        "credible interval (chance) or the evidence swiped for it (lean); docs/EVALUATION.md.",
    )
    photo = serializers.SerializerMethodField(
        help_text="The most typical deck photo of the city (the highest model probability)."
    )
    reasons = serializers.SerializerMethodField(
        help_text="Liked photos that raised this city most (with `?reasons=N`)."
    )

    @extend_schema_field(serializers.ListField(child=serializers.FloatField(), allow_null=True))
    def get_chance_interval(self, city):
        return None if city.chance is None else [city.chance_low, city.chance_high]

    @extend_schema_field(PhotoRefSerializer(allow_null=True))
    def get_photo(self, city):
        photo = self.context.get("photos", {}).get(city.photo_id)
        return None if photo is None else PhotoRefSerializer(photo, context=self.context).data

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, city) -> list:
        found = self.context.get("reasons", {}).get(city.slug, [])
        return ReasonSerializer(found, many=True, context=self.context).data


MATCH_KIND_FIELD = serializers.ChoiceField(
    choices=[selectors.CHANCE, selectors.LEAN],
    help_text="What `match` means: chance (Bayesian rankers) or lean (the baseline ranker).",
)
BASE_CHANCE_FIELD = serializers.FloatField(
    allow_null=True,
    help_text="chance only: your chance of liking an average photo (your like-rate as the model "
    "sees it). With no like yet no city is above it.",
)


def ranking_header(found) -> dict:
    return {
        "swipe_count": found.swipe_count,
        "like_count": found.like_count,
        "ranker": found.ranker,
        "match_kind": found.match_kind,
        "base_chance": found.base_chance,
    }


def caught_up_statistics(profile):
    """The Bayesian rankers rank from the swipe statistics as they are now: bring the stored
    ones up to date first (the write), then read."""
    if selectors.ranker_of(profile).bayesian:
        return services.ranker_state_catch_up(profile=profile)
    return None


class RecommendationsApi(APIView):
    class RecommendationsQuerySerializer(CityLimitQuerySerializer):
        reasons = serializers.IntegerField(
            min_value=0,
            max_value=10,
            default=0,
            help_text=(
                "For each of the top cities (the first REASON_CITIES), up to this many liked "
                "photos that raised it most (0: none; a city no like raised has none)."
            ),
        )
        not_in_deck = serializers.ChoiceField(
            choices=list(NOT_IN_DECK_CHOICES),
            default="omit",
            help_text="Cities of the catalog without deck photos are never ranked: "
            + "; ".join(f"{key}: {value}" for key, value in NOT_IN_DECK_CHOICES.items())
            + ".",
        )

    @extend_schema(
        tags=["recommendations"],
        summary="My ranked cities",
        description="Sorted by `match` (then by the finer value behind it). Only cities with "
        "deck photos are ranked: nobody has shown a taste for the others.",
        parameters=[RecommendationsQuerySerializer],
        responses={
            200: inline_serializer(
                "Recommendations",
                {
                    "swipe_count": serializers.IntegerField(),
                    "like_count": serializers.IntegerField(help_text="My right swipes."),
                    "ranker": serializers.ChoiceField(
                        choices=list(rankers.RANKERS),
                        help_text="The ranker that ranked these cities.",
                    ),
                    "match_kind": MATCH_KIND_FIELD,
                    "base_chance": BASE_CHANCE_FIELD,
                    "city_count": serializers.IntegerField(
                        help_text="Cities in the ranking (those with deck photos): `results` "
                        "never holds more, whatever the `limit`."
                    ),
                    "results": RankedCitySerializer(many=True),
                    "vibe": VibeSerializer(help_text="Your vibe: the attributes you lean to."),
                    "not_in_deck": CityRefSerializer(
                        many=True,
                        required=False,
                        help_text="With `not_in_deck=list`: the catalog's cities without deck "
                        "photos, by name, unranked.",
                    ),
                },
            ),
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        context = {"city_count": city_count()}
        query = validated_query(self.RecommendationsQuerySerializer, request, context)
        profile = selectors.profile_get(user=request.user)
        found = selectors.recommendations(
            profile=profile, limit=query["limit"], statistics=caught_up_statistics(profile)
        )
        reasons = selectors.liked_photo_reasons(
            user=request.user,
            slugs=[city.slug for city in found.cities[: settings.CITYVIBES["REASON_CITIES"]]],
            per_city=query["reasons"],
        )
        photos = photos_by_id(ids=[city.photo_id for city in found.cities])
        attributes = selectors.city_attributes()
        context = {"request": request, "reasons": reasons, "photos": photos}
        body = ranking_header(found) | {
            "city_count": found.city_count,
            "results": RankedCitySerializer(
                found.cities, many=True, context=context | {"attributes": attributes}
            ).data,
            "vibe": VibeSerializer(selectors.vibe_of(user=request.user)).data,
        }
        if query["not_in_deck"] == "list":
            body["not_in_deck"] = [{"slug": slug, "name": name} for slug, name in found.not_in_deck]
        return Response(body)


class CityOutlookApi(APIView):
    PHOTOS = 12
    REASONS = 4
    SIMILAR = 5

    class SimilarSerializer(serializers.Serializer):
        slug = serializers.CharField()
        name = serializers.CharField()
        similarity = serializers.FloatField(
            help_text="-1 to 1: how alike the CNN finds the two cities' photos."
        )

    @extend_schema(
        tags=["recommendations"],
        operation_id="recommendations_city_retrieve",
        summary="One city for me: where it ranks, why, its photos and look-alikes",
        responses={
            200: inline_serializer(
                "CityOutlook",
                {
                    "city": CityRefSerializer(),
                    "attributes": serializers.ListField(
                        child=serializers.CharField(), help_text="The city's dominant attributes."
                    ),
                    "match_kind": MATCH_KIND_FIELD,
                    "base_chance": BASE_CHANCE_FIELD,
                    "swipe_count": serializers.IntegerField(),
                    "like_count": serializers.IntegerField(),
                    "ranker": serializers.ChoiceField(choices=list(rankers.RANKERS)),
                    "city_count": serializers.IntegerField(help_text="Cities in my ranking."),
                    "ranking": RankedCitySerializer(
                        allow_null=True,
                        help_text="This city in my ranking; null when it has no deck photos.",
                    ),
                    "liked": ReasonSerializer(many=True, help_text="Likes that raised it most."),
                    "passed": ReasonSerializer(many=True, help_text="Nopes that lowered it most."),
                    "photos": PhotoRefSerializer(many=True, help_text="Most typical first."),
                    "similar": SimilarSerializer(many=True),
                },
            ),
            **error_responses(401, 404),
        },
    )
    def get(self, request, slug):
        profile = selectors.profile_get(user=request.user)
        found = selectors.city_outlook(
            profile=profile,
            slug=slug,
            photo_limit=self.PHOTOS,
            reason_limit=self.REASONS,
            similar_limit=self.SIMILAR,
            statistics=caught_up_statistics(profile),
        )
        if found is None:
            raise NotFoundError(f"There is no city '{slug}'.")
        attributes = selectors.city_attributes()
        context = {"request": request, "photos": {}, "attributes": attributes}
        if found.ranked is not None:
            context["photos"] = photos_by_id(ids=[found.ranked.photo_id])
        ranked = (
            None
            if found.ranked is None
            else RankedCitySerializer(found.ranked, context=context).data
        )
        return Response(
            ranking_header(found.ranking)
            | {
                "city": {"slug": found.city.slug, "name": found.city.name},
                "attributes": attributes.get(found.city.slug, []),
                "city_count": found.ranking.city_count,
                "ranking": ranked,
                "liked": ReasonSerializer(found.liked, many=True, context=context).data,
                "passed": ReasonSerializer(found.passed, many=True, context=context).data,
                "photos": PhotoRefSerializer(found.photos, many=True, context=context).data,
                "similar": self.SimilarSerializer(found.similar, many=True).data,
            }
        )
