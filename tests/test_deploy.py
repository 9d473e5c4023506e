"""Production settings pass Django's deployment checklist and refuse to start without secrets."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-0123456789",
    "DJANGO_ALLOWED_HOSTS": "cityvibes.example.com",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL"))
    }
    environment.update(env, DJANGO_SETTINGS_MODULE="cityvibes.settings.production")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        CACHE_URL="redis://cache:6379/1",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_when_rate_limits_would_count_per_process():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", CACHE_URL="locmemcache://", **PRODUCTION
    )
    assert result.returncode != 0 and "core.W001" in result.stderr


def test_production_settings_fail_loudly_without_a_secret_key():
    result = _manage("check", DJANGO_ALLOWED_HOSTS="cityvibes.example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_cookies_are_host_only_secure_and_hidden_from_scripts():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY)",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-5:] == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
    ]


def test_the_csrf_cookie_is_not_readable_by_scripts_and_forms_still_work(client, db):
    page = client.get("/login/")
    cookie = page.cookies["csrftoken"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    token = page.context["csrf_token"]
    checked = type(client)(enforce_csrf_checks=True)
    checked.cookies = client.cookies
    response = checked.post(
        "/login/", {"username": "nobody", "password": "x" * 12, "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 200  # the form answered (wrong password), not a CSRF 403
