"""Swipes: swipe a photo and list my swipes, undo the last one, reset them all."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses

from .. import selectors, services
from ..selectors import history
from .deck import PhotoOutputSerializer

MAX_ID = 2**63 - 1  # the largest primary key the databases store; larger ones are a 400, not a 500


class SwipeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    photo = serializers.IntegerField(source="photo_id")
    direction = serializers.CharField()
    created_at = serializers.DateTimeField()


_CREATED_AT = serializers.DateTimeField()


def swipe_body(swipe) -> dict:
    """``SwipeOutputSerializer(swipe).data`` for one swipe, without building a serializer per
    request (the swipe is the busiest endpoint); tests compare the two."""
    return {
        "id": swipe.id,
        "photo": swipe.photo_id,
        "direction": swipe.direction,
        "created_at": _CREATED_AT.to_representation(swipe.created_at),
    }


class SwipeApi(generics.ListAPIView):
    serializer_class = SwipeOutputSerializer
    throttle_scope = "swipes"

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "POST" else []

    def get_queryset(self):
        return selectors.swipes_of(user=self.request.user)

    class SwipeInputSerializer(serializers.Serializer):
        photo = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, help_text="Id of the photo swiped."
        )
        direction = serializers.ChoiceField(choices=["left", "right"])

    class SwipeCreatedSerializer(SwipeOutputSerializer):
        created = serializers.BooleanField(
            help_text="False when this repeats an earlier identical swipe (nothing changed)."
        )
        swipe_count = serializers.IntegerField()

    @extend_schema(tags=["swipes"], summary="My swipes, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["swipes"],
        summary="Swipe a photo",
        description=(
            "Right adds the photo's per-city probability array to your running scores, left "
            "subtracts it. Retrying an identical swipe is safe: it returns 200 with "
            "`created: false` and changes nothing. Swiping the other way on a photo you "
            "already swiped is a 409: undo first."
        ),
        request=SwipeInputSerializer,
        responses={
            201: SwipeCreatedSerializer,
            200: SwipeCreatedSerializer,
            **error_responses(400, 401, 404, 409, 429),
        },
    )
    def post(self, request):
        data = self.SwipeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.swipe_record(
            user=request.user,
            photo_id=data.validated_data["photo"],
            direction=data.validated_data["direction"],
        )
        body = swipe_body(result.swipe) | {
            "created": result.created,
            "swipe_count": result.swipe_count,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)


class SwipeUndoApi(APIView):
    throttle_scope = "swipes"

    class SwipeUndoneSerializer(SwipeOutputSerializer):
        swipe_count = serializers.IntegerField(
            help_text="Your swipes after this undo: how many more you can undo."
        )
        photo_detail = PhotoOutputSerializer(
            allow_null=True,
            help_text=(
                "The undone swipe's photo as GET /api/v1/photos/next/ serves it, to put back "
                "on top of the deck (also after a reload or on another device); null when the "
                "photo has left the deck since (rejected): swiping it again would be refused."
            ),
        )

    @extend_schema(
        tags=["swipes"],
        summary="Undo my last swipe",
        description=(
            "Takes your most recent swipe's contribution back out and returns it with its "
            "photo, which comes back next. The server keeps the history, so undo works the "
            "same after a reload, a new session or a new token. 404 when there is no swipe "
            "left to undo."
        ),
        request=None,
        responses={200: SwipeUndoneSerializer, **error_responses(401, 404, 429)},
    )
    def post(self, request):
        swipe = services.swipe_undo_last(user=request.user)
        photo = history.undone_photo_card(photo_id=swipe.photo_id)
        card = PhotoOutputSerializer(photo, context={"request": request}).data if photo else None
        body = SwipeOutputSerializer(swipe).data | {
            "swipe_count": history.swipes_left_to_undo(user=request.user),
            "photo_detail": card,
        }
        return Response(body)


class SwipeResetApi(APIView):
    throttle_scope = "swipes"

    @extend_schema(
        tags=["swipes"],
        summary="Reset my swipes",
        description="Deletes all my swipes and starts my queue and scores from zero.",
        request=None,
        responses={
            200: inline_serializer("SwipeReset", {"deleted": serializers.IntegerField()}),
            **error_responses(401, 429),
        },
    )
    def post(self, request):
        return Response({"deleted": services.swipes_reset(user=request.user)})
