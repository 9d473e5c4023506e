"""A read-only share link to my ranking: make one (a new one ends the old), see it, end it."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.errors import NotFoundError

from .. import selectors, services

ShareSerializer = inline_serializer(
    "RankingShare",
    {
        "url": serializers.URLField(
            allow_null=True,
            help_text="The read-only page of my ranking; anyone with it can see the ranking "
            "(not my swipes or account). null: I have no link.",
        ),
        "created_at": serializers.DateTimeField(allow_null=True),
    },
)


def _body(request, share) -> dict:
    if share is None:
        return {"url": None, "created_at": None}
    path = reverse("shared-ranking", kwargs={"token": share.token})
    return {"url": request.build_absolute_uri(path), "created_at": share.created_at}


class RankingShareApi(APIView):
    throttle_scope = "swipes"

    def get_throttles(self):
        return [] if self.request.method == "GET" else super().get_throttles()

    @extend_schema(
        tags=["recommendations"],
        summary="My ranking's share link",
        responses={200: ShareSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response(_body(request, selectors.ranking_share_of(user=request.user)))

    @extend_schema(
        tags=["recommendations"],
        summary="Make a new share link",
        description="The previous link, if any, stops working.",
        request=None,
        responses={201: ShareSerializer, **error_responses(401, 429)},
    )
    def post(self, request):
        share = services.ranking_share_create(user=request.user)
        return Response(_body(request, share), status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["recommendations"],
        summary="End my share link",
        request=None,
        responses={204: None, **error_responses(401, 404, 429)},
    )
    def delete(self, request):
        if not services.ranking_share_revoke(user=request.user):
            raise NotFoundError("You have no share link.")
        return Response(status=status.HTTP_204_NO_CONTENT)
