"""The production stack bench/loadtest.py starts on this machine: a fresh PostgreSQL database,
gunicorn and a Celery worker with production settings and Redis, and small HTTP helpers."""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOAD_DB = "cityvibes_load"
PORT = 8765


def server_env(args, workdir: Path, database_url: str) -> dict:
    redis = args.redis.rstrip("/")
    # bench/loadtest.py's --port and --redis-dbs; other scripts start this stack with the defaults.
    port = getattr(args, "port", PORT)
    cache_db, broker_db = getattr(args, "redis_dbs", (13, 14))
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cityvibes.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, no TLS proxy
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": f"{redis}/{broker_db}",
        "CACHE_URL": f"{redis}/{cache_db}",
        # A killed worker's tasks come back after 20 s instead of an hour.
        "CELERY_VISIBILITY_TIMEOUT": "20",
        "CELERY_UNACKED_RESTORE_INTERVAL": "5",
        "MEDIA_ROOT": str(workdir / "media"),
        "PRIVATE_FILES_ROOT": str(workdir / "private"),
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
        "LOG_FORMAT": "json",
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "PHOTO_FETCH_ALLOWED_HOSTS": "localhost",
        # Every simulated person comes from 127.0.0.1, so the per-IP limits are off; the
        # per-user swipe limit is raised for FastSwiper (no pause) and still checked per request.
        "API_THROTTLE_RATES": "swipes_user=6000/min,swipes_ip=none,guest_ip=none",
        "WEB_CONCURRENCY": str(args.web_workers),
        "GUNICORN_THREADS": str(args.threads),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def manage(env: dict, *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


class Process:
    """A server process group that can be killed outright and started again."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path):
        self.name, self.command, self.env, self.log = name, command, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.popen = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout=60)


def get(url: str, token: str = "", timeout: float = 5) -> tuple[int, dict]:
    headers = {"Authorization": f"Token {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}
    except OSError:
        return 0, {}


def wait_ready(base: str, timeout: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if get(f"{base}/api/v1/health/ready/")[0] == 200:
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit("the web processes did not become ready")
