"""The app as people run it, in subprocesses, for the browser tests of whole admin flows: the
embedded default (`runserver`, local settings, a SQLite file, tasks in the web process's
background thread, training in a thread of its own) or, when the run has PostgreSQL and Redis,
a fresh PostgreSQL database with the broker and a real Celery worker consuming both queues.
Nothing here shares a connection or a transaction with the test process: what the browser
sees is what a person would."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADMIN_USER, ADMIN_PASSWORD = "flow-admin", "a-long-flow-password"


@dataclass
class Running:
    url: str
    mode: str  # "embedded" or "postgres+redis"
    env: dict

    def manage(self, *args: str, timeout: float = 300) -> str:
        return _manage(self.env, *args, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict, *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health/live/", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server did not answer within {timeout} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def run_mode() -> str:
    """postgres+redis when this run has both (CI's second run), else the embedded default."""
    database = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if database.startswith("postgres") and broker.startswith("redis://"):
        return "postgres+redis"
    return "embedded"


@contextmanager
def _postgres_database(base_url: str):
    import psycopg2

    name = f"cityvibes_flow_{uuid.uuid4().hex[:10]}"
    admin_url = base_url.rsplit("/", 1)[0] + "/postgres"

    def run(statement: str) -> None:
        connection = psycopg2.connect(admin_url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    run(f'CREATE DATABASE "{name}"')
    try:
        yield base_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_app(tmp_path: Path):
    """The app with a migrated database and an admin user; yields ``Running``."""
    mode = run_mode()
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cityvibes.settings.local",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_FILES_ROOT": str(tmp_path / "private"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with _database(mode, tmp_path) as database_url:
        env["DATABASE_URL"] = database_url
        if mode == "embedded":
            env["CELERY_BROKER_URL"] = ""
        else:
            env["CELERY_BROKER_URL"] = os.environ["CELERY_BROKER_URL"]
        _manage(env, "migrate", "--noinput")
        _manage(
            env,
            "createsuperuser",
            "--noinput",
            "--username",
            ADMIN_USER,
            "--email",
            "admin@example.com",
        )
        processes = []
        try:
            if mode != "embedded":
                _manage(env, "shell", "-c", _PURGE_QUEUES)
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "celery",
                            "-A",
                            "cityvibes",
                            "worker",
                            "-Q",
                            "celery,ml",
                            "--pool",
                            "prefork",
                            "-c",
                            "2",
                            "-n",
                            f"flow-{port}@%h",
                            "-l",
                            "WARNING",
                            "--without-gossip",
                            "--without-mingle",
                        ],
                        cwd=ROOT,
                        env=env,
                        start_new_session=True,
                    )
                )
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
            processes.append(server)
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(url, server)
            yield Running(url=url, mode=mode, env=env)
        finally:
            for process in reversed(processes):
                _stop(process)


_PURGE_QUEUES = (
    "from cityvibes.celery import app\n"
    "with app.connection_for_write() as c:\n"
    "    [c.default_channel.queue_purge(q) for q in ('celery', 'ml')]\n"
)


@contextmanager
def _database(mode: str, tmp_path: Path):
    if mode == "embedded":
        yield f"sqlite:///{tmp_path / 'db.sqlite3'}"
        return
    with _postgres_database(os.environ["DATABASE_URL"]) as url:
        yield url
