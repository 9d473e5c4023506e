"""The deck: the next photos to swipe."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from photos.selectors import photo_image_url

from .. import selectors, services
from .common import CityRefSerializer, validated_query


# A photo as the deck shows it on a card: GET /api/v1/photos/next/, and the photo of an undone
# swipe (POST /api/v1/swipes/undo/, users.apis.swipes). A comment, not a docstring, so the
# schema's component stays as it was.
class PhotoOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    image_url = serializers.SerializerMethodField()
    city = CityRefSerializer(allow_null=True, help_text="The city the photo was collected for.")
    queue_position = serializers.IntegerField()
    is_synthetic = serializers.BooleanField(help_text="Generated demo image, not a photograph.")

    def get_image_url(self, photo) -> str:
        return photo_image_url(photo=photo, request=self.context.get("request"))


class NextPhotosApi(APIView):
    class NextPhotosQuerySerializer(serializers.Serializer):
        limit = serializers.IntegerField(
            min_value=1, max_value=settings.CITYVIBES["NEXT_PHOTOS_MAX"], default=10
        )

    @extend_schema(
        tags=["deck"],
        summary="Next photos to swipe",
        description=(
            "A batch of the next photos in this person's queue, for prefetching. Only scored "
            "photos are served, and never one this person has swiped."
        ),
        parameters=[NextPhotosQuerySerializer],
        responses={
            200: inline_serializer(
                "NextPhotos",
                {
                    "results": PhotoOutputSerializer(many=True),
                    "deck_size": serializers.IntegerField(
                        help_text="Photos in the whole deck; 0 means none is scored yet."
                    ),
                },
            ),
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        limit = validated_query(self.NextPhotosQuerySerializer, request)["limit"]
        profile = selectors.profile_get(user=request.user)
        statistics = None
        if selectors.ranker_of(profile).active_queue:
            # The active queue picks from the swipe statistics as they are now: bring the
            # stored ones up to date first (the write), then read.
            statistics = services.ranker_state_catch_up(profile=profile)
        photos = selectors.photos_next(profile=profile, limit=limit, statistics=statistics)
        results = PhotoOutputSerializer(photos, many=True, context={"request": request})
        return Response(
            {"results": results.data, "deck_size": selectors.deck_size(profile=profile)}
        )
