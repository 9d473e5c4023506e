"""Liveness and readiness probes for load balancers and orchestrators."""

import logging
import time

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.metrics import celery_queue_lengths
from ml import selectors as ml_selectors

logger = logging.getLogger(__name__)


class NotReady(Exception):
    """A check failed for a reason this module words itself (safe to show anyone)."""


class LiveSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])


class CheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    ms = serializers.FloatField(help_text="How long the check took.")


class ReadySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ready", "unavailable"])
    message = serializers.CharField(help_text="The failed checks, or 'ready'.")
    checks = serializers.DictField(child=CheckSerializer(), help_text="database, broker, model.")


class LiveApi(APIView):
    """No authentication, no database: the cheapest DRF request (also the load test's floor)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        summary="Is the process up?",
        responses={200: LiveSerializer},
    )
    def get(self, request):
        return Response({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "none: tasks run in-process (eager mode)"
    lengths = celery_queue_lengths(timeout=2.0)
    return "reachable; waiting tasks: " + ", ".join(f"{q}={n}" for q, n in lengths.items())


def _check_model() -> str:
    version = ml_selectors.model_version_active()
    if version is None:
        if settings.HEALTH_REQUIRE_MODEL:
            raise NotReady("no active model version")
        return "no active model version (not required)"
    if version.architecture == version.Architecture.LABEL_PRIOR:
        return f"{version.name} (label prior, nothing to load)"
    if not version.artifact or not version.artifact.storage.exists(version.artifact.name):
        raise NotReady(f"{version.name}: its artifact is missing from storage")
    return f"{version.name}: artifact {version.artifact.name} present"


CHECKS = {"database": _check_database, "broker": _check_broker, "model": _check_model}


class ReadyApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        summary="Can this process serve traffic? (database, broker, active model)",
        description=(
            "200 when the database answers, the Celery broker is reachable (or tasks run "
            "in-process), and the active model version's artifact is in storage; 503 with the "
            "failed checks otherwise."
        ),
        responses={200: ReadySerializer, 503: ReadySerializer},
    )
    def get(self, request):
        results = {}
        for name, check in CHECKS.items():
            started = time.perf_counter()
            try:
                detail, ok = check(), True
            except NotReady as reason:
                detail, ok = str(reason), False
            except Exception as error:  # not ready; the probe is public: the why goes to the log
                logger.warning("readiness check %s failed: %r", name, error)
                detail, ok = f"{type(error).__name__} (details in the server log)", False
            ms = round((time.perf_counter() - started) * 1000, 1)
            results[name] = {"ok": ok, "detail": detail, "ms": ms}
        failed = [
            f"{name}: {result['detail']}" for name, result in results.items() if not result["ok"]
        ]
        body = {
            "status": "unavailable" if failed else "ready",
            "message": "; ".join(failed) or "ready",
            "checks": results,
        }
        return Response(body, status=503 if failed else 200)
