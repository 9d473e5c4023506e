"""Accounts: start as a guest, register (a guest is upgraded in place), log in, log out, me."""

from django.contrib.auth import authenticate, login, logout
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core import ratelimit
from core.api import error_responses
from core.errors import ApplicationError

from .. import selectors, services

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


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
