"""REST endpoints for people: accounts, the swipe deck, swipes and recommendations.

Each view validates input with a serializer, calls one service or selector, and returns an
output serializer."""

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core import ratelimit
from core.api import error_responses
from core.errors import ApplicationError, NotFoundError
from photos.selectors import city_get as photo_city_get
from photos.selectors import photo_deck_size, photo_image_url

from . import rankers, selectors, services

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
MAX_ID = 2**63 - 1  # the largest primary key the databases store; larger ones are a 400, not a 500


class ProfileOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.id")
    username = serializers.CharField(source="user.username")
    is_guest = serializers.BooleanField()
    swipe_count = serializers.IntegerField()
    queue_position = serializers.IntegerField()


class SessionOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    user = ProfileOutputSerializer()


def _session_response(request, user, *, status_code: int) -> Response:
    """Log the user into a browser session too, and return their API token and profile."""
    login(request._request, user, backend=MODEL_BACKEND)
    token = services.token_for(user)
    body = {"token": token.key, "user": selectors.profile_get(user=user)}
    return Response(SessionOutputSerializer(body).data, status=status_code)


class GuestCreateApi(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "guest"
    # A stale token in the header must not stop anyone from starting over or logging in.
    authentication_classes = [SessionAuthentication]

    @extend_schema(
        tags=["auth"],
        summary="Start as a guest",
        description="Creates a real profile with no sign-up. Register later to keep it.",
        request=None,
        responses={201: SessionOutputSerializer, **error_responses(429)},
    )
    def post(self, request):
        user, _ = services.guest_create()
        return _session_response(request, user, status_code=status.HTTP_201_CREATED)


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "register"

    class RegisterInputSerializer(serializers.Serializer):
        username = serializers.RegexField(
            r"^[\w.@+-]+\Z",
            max_length=150,
            error_messages={"invalid": "Use letters, digits and @/./+/-/_ only."},
        )
        password = serializers.CharField(max_length=128, write_only=True)
        email = serializers.EmailField(required=False, allow_blank=True)

    @extend_schema(
        tags=["auth"],
        summary="Register",
        description=(
            "Creates an account. Called with a guest's credentials, it upgrades that guest in "
            "place: swipes and scores are kept and the token stays valid."
        ),
        request=RegisterInputSerializer,
        responses={201: SessionOutputSerializer, **error_responses(400, 409, 429)},
    )
    def post(self, request):
        data = self.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(current_user=request.user, **data.validated_data)
        return _session_response(request, user, status_code=status.HTTP_201_CREATED)


class LoginApi(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "login"
    authentication_classes = [SessionAuthentication]

    class LoginInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, write_only=True)

    @extend_schema(
        tags=["auth"],
        summary="Log in",
        request=LoginInputSerializer,
        responses={200: SessionOutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request):
        data = self.LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Per target account, from any address (the throttles counted user and address); the
        # browser log-in forms count into the same budgets.
        username = data.validated_data["username"]
        wait = ratelimit.hit(request, self.throttle_scope, "account", account=username)
        if wait is not None:
            raise exceptions.Throttled(wait)
        user = authenticate(request._request, **data.validated_data)
        if user is None:
            raise ApplicationError("Wrong username or password.")
        return _session_response(request, user, status_code=status.HTTP_200_OK)


class LogoutApi(APIView):
    @extend_schema(
        tags=["auth"],
        summary="Log out",
        description="Revokes the API token and ends the browser session.",
        request=None,
        responses={204: None, **error_responses(401)},
    )
    def post(self, request):
        services.token_revoke(request.user)
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(tags=["me"], responses={200: ProfileOutputSerializer, **error_responses(401)})
    def get(self, request):
        return Response(ProfileOutputSerializer(selectors.profile_get(user=request.user)).data)


class CityRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class PhotoOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    image_url = serializers.SerializerMethodField()
    city = CityRefSerializer(allow_null=True, help_text="The city the photo was collected for.")
    queue_position = serializers.IntegerField()
    is_synthetic = serializers.BooleanField(help_text="Generated demo image, not a photograph.")

    def get_image_url(self, photo) -> str:
        return photo_image_url(photo=photo, request=self.context.get("request"))


class NextPhotosQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=settings.CITYVIBES["NEXT_PHOTOS_MAX"], default=10
    )


class RecommendationsQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=settings.CITYVIBES["RECOMMENDATIONS_MAX"], default=10
    )
    reasons = serializers.IntegerField(
        min_value=0,
        max_value=10,
        default=0,
        help_text=(
            "For each of the top cities (the first REASON_CITIES liked ones), up to this many "
            "liked photos that raised it most (0: none)."
        ),
    )


def _validated_query(serializer_class, request) -> dict:
    # A plain dict, not the QueryDict: DRF treats an empty form value as "not sent" (the
    # default), but `?limit=` is a malformed number and gets a 400.
    query = serializer_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return query.validated_data


class NextPhotosApi(APIView):
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
        limit = _validated_query(NextPhotosQuerySerializer, request)["limit"]
        photos = selectors.photos_next(user=request.user, limit=limit)
        results = PhotoOutputSerializer(photos, many=True, context={"request": request}).data
        return Response({"results": results, "deck_size": photo_deck_size()})


class SwipeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    photo = serializers.IntegerField(source="photo_id")
    direction = serializers.CharField()
    created_at = serializers.DateTimeField()


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
        body = SwipeOutputSerializer(result.swipe).data | {
            "created": result.created,
            "swipe_count": result.swipe_count,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)


class SwipeUndoApi(APIView):
    throttle_scope = "swipes"

    @extend_schema(
        tags=["swipes"],
        summary="Undo my last swipe",
        description="Takes the last swipe's contribution back out; its photo comes back next.",
        request=None,
        responses={200: SwipeOutputSerializer, **error_responses(401, 404, 429)},
    )
    def post(self, request):
        swipe = services.swipe_undo_last(user=request.user)
        return Response(SwipeOutputSerializer(swipe).data)


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
        return photo_image_url(photo=reason.photo, request=self.context.get("request"))


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
    @extend_schema(
        tags=["recommendations"],
        summary="My ranked cities",
        parameters=[RecommendationsQuerySerializer],
        responses={
            200: inline_serializer(
                "Recommendations",
                {
                    "swipe_count": serializers.IntegerField(),
                    "ranker": serializers.ChoiceField(
                        choices=rankers.RANKERS, help_text="The ranker that ranked these cities."
                    ),
                    "results": RankedCitySerializer(many=True),
                },
            ),
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        query = _validated_query(RecommendationsQuerySerializer, request)
        found = selectors.recommendations(user=request.user, limit=query["limit"])
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
            {"swipe_count": found.swipe_count, "ranker": found.ranker, "results": results}
        )


class SimilarCitiesQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=266, default=10)


class SimilarCitySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    similarity = serializers.FloatField(
        help_text="-1 to 1: cosine similarity of the cities' photos' mean log-probability "
        "arrays (1: the CNN hesitates between the same cities on both)."
    )


class SimilarCitiesApi(APIView):
    @extend_schema(
        tags=["recommendations"],
        summary="Cities that look like this one",
        description=(
            "Most similar first, from the CNN's probability arrays of the deck's photos. The "
            "Bayesian rankers use the same similarity as their prior (a like also lifts "
            "look-alike cities) and for look-alike reasons."
        ),
        parameters=[SimilarCitiesQuerySerializer],
        responses={
            200: inline_serializer(
                "SimilarCities",
                {"city": CityRefSerializer(), "results": SimilarCitySerializer(many=True)},
            ),
            **error_responses(400, 401, 404),
        },
    )
    def get(self, request, slug):
        limit = _validated_query(SimilarCitiesQuerySerializer, request)["limit"]
        found = selectors.similar_cities(slug=slug, limit=limit)
        city = photo_city_get(slug=slug)
        if found is None or city is None:
            raise NotFoundError(f"There is no city '{slug}'.")
        results = SimilarCitySerializer(found, many=True).data
        return Response({"city": {"slug": city.slug, "name": city.name}, "results": results})
