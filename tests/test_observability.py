"""Health and readiness probes, request ids in responses and logs, Prometheus metrics."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from ml.models import ModelVersion
from users import services as user_services

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_liveness_needs_no_database_and_no_credentials(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/api/v1/health/live/", HTTP_AUTHORIZATION="Token bogus")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_when_database_broker_and_model_are(client, label_prior):
    body = client.get("/api/v1/health/ready/").json()
    assert body["status"] == "ready", body
    assert set(body["checks"]) == {"database", "broker", "model"}
    assert all(check["ok"] for check in body["checks"].values())
    assert label_prior.name in body["checks"]["model"]["detail"]


def test_not_ready_without_an_active_model(client, settings):
    response = client.get("/api/v1/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and "no active model version" in body["message"]
    assert body["checks"]["database"]["ok"] and not body["checks"]["model"]["ok"]
    settings.HEALTH_REQUIRE_MODEL = False
    assert client.get("/api/v1/health/ready/").status_code == 200


def test_not_ready_when_the_active_cnn_artifact_is_missing(client):
    version = ModelVersion.objects.create(
        name="cnn-gone", kind=ModelVersion.Kind.CITY, classes=["paris"], is_active=True
    )
    version.artifact.save("cnn-gone.keras", ContentFile(b"weights"))
    assert client.get("/api/v1/health/ready/").status_code == 200
    version.artifact.storage.delete(version.artifact.name)
    body = client.get("/api/v1/health/ready/").json()
    assert body["status"] == "unavailable"
    assert "artifact is missing" in body["checks"]["model"]["detail"]


def test_not_ready_when_the_broker_is_unreachable(client, label_prior, settings, monkeypatch):
    from cityvibes.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    connect = app.connection_for_read
    # nothing listens on port 1
    monkeypatch.setattr(app, "connection_for_read", lambda: connect("redis://127.0.0.1:1/0"))
    response = client.get("/api/v1/health/ready/")
    assert response.status_code == 503
    assert not response.json()["checks"]["broker"]["ok"]
    assert response.json()["message"].startswith("broker: ")
    # the probe is public: the why (host names, ports) goes to the log, not to the caller
    assert "127.0.0.1" not in response.content.decode()
    assert "details in the server log" in response.json()["checks"]["broker"]["detail"]


def test_every_response_carries_a_request_id_and_a_sane_upstream_one_is_kept(client):
    generated = client.get("/api/v1/health/live/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/api/v1/cities/", HTTP_X_REQUEST_ID="lb-42.a")["X-Request-ID"] == "lb-42.a"
    forged = client.get("/api/v1/cities/", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b" + "y" * 200)
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])
    assert client.get("/api/v1/nowhere/")["X-Request-ID"]  # errors too


def test_json_logs_carry_the_request_id_and_user():
    """LOG_FORMAT=json: every line a JSON object; the request's line has its id and user."""
    script = (
        "from django.test.utils import setup_test_environment; setup_test_environment();"
        "from django.test import Client;"
        "Client().get('/api/v1/health/live/', HTTP_X_REQUEST_ID='trace-123')"
    )
    environment = {
        **os.environ,
        "LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "cityvibes.settings.test",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    finished = [line for line in lines if line["event"] == "request_finished"]
    assert finished, result.stderr[-2000:]
    assert finished[0]["request_id"] == "trace-123"
    assert finished[0]["code"] == 200 and "timestamp" in finished[0] and "level" in finished[0]


def _sample(text: str, name: str, **labels) -> float:
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    match = re.search(rf"^{name}\{{{selector}\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_requests_and_swipes(client, published_photos, settings):
    settings.METRICS_PUBLIC = True
    photos = published_photos(2)
    token = user_services.guest_create()[1]
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    before = client.get("/metrics").content.decode()

    for photo in (photos[0], photos[0], photos[1]):  # the second is a client retry
        client.post(
            "/api/v1/swipes/",
            {"photo": photo.pk, "direction": "right"},
            content_type="application/json",
            **auth,
        )
    response = client.get("/metrics")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    after = response.content.decode()
    created = dict(name="cityvibes_swipes_total", direction="right", outcome="created")
    retry = dict(name="cityvibes_swipes_total", direction="right", outcome="retry")
    assert _sample(after, **created) - _sample(before, **created) == 2
    assert _sample(after, **retry) - _sample(before, **retry) == 1
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in after
    assert "cityvibes_photos_scored_total" in after
    assert "cityvibes_celery_queue_length" in after  # empty in eager mode, filled on a broker


def test_metrics_with_a_token_need_it_as_a_bearer_credential(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    settings.METRICS_PUBLIC = True  # the token wins
    refused = [
        client.get("/metrics"),
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong"),
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token-and-more"),
        client.get("/metrics", HTTP_AUTHORIZATION="Token s3cret-token"),
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer \xff\xfe"),  # bytes, not ASCII
    ]
    for response in refused:
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"cityvibes_" not in response.content
    for header in ("Bearer s3cret-token", "bearer s3cret-token"):
        response = client.get("/metrics", HTTP_AUTHORIZATION=header)
        assert response.status_code == 200 and b"cityvibes_swipes_total" in response.content


def test_metrics_without_a_token_are_served_only_when_public(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_PUBLIC = False
    assert client.get("/metrics").status_code == 404
    settings.METRICS_PUBLIC = True
    assert client.get("/metrics").status_code == 200
