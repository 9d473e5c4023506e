"""Production settings pass Django's deployment checklist and refuse to start without secrets."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
        DJANGO_SECRET_KEY="x" * 20 + "-a-long-random-production-secret-0123456789",
        DJANGO_ALLOWED_HOSTS="cityvibes.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_fail_loudly_without_a_secret_key():
    result = _manage("check", DJANGO_ALLOWED_HOSTS="cityvibes.example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
