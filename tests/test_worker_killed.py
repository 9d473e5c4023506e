"""Kill a real Celery worker (prefork, SIGKILL to its whole process group) in the middle of an
import batch, start another one, and check that nothing is lost: acks_late + Redis's visibility
timeout give the killed worker's tasks to the new one, and the steps are idempotent."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ingest import imports
from ml.scoring import model_version_label_prior_ensure
from photos.models import Photo
from photos.selectors import batch_counts
from tests.pictures import jpeg, textured

pytestmark = [
    pytest.mark.broker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROOT = Path(__file__).resolve().parents[1]


def _worker_env() -> dict:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cityvibes.settings.test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_FILES_ROOT": str(settings.PRIVATE_FILES_ROOT),
        "PHOTO_FETCH_ALLOWED_HOSTS": "localhost",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "0.5",
    }


def _start_worker(name: str) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "cityvibes", "worker", "-Q", "celery,ml",
        "--pool", "prefork", "-c", "2", "-n", f"{name}@%h", "-l", "WARNING",
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=_worker_env(), start_new_session=True)


def _wait(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.25)
    return predicate()


@pytest.fixture
def broker_only(postgres_only):
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://...")
    from cityvibes.celery import app

    with app.connection_for_write() as conn:  # no leftovers from other tests
        for queue in ("celery", "ml"):
            conn.default_channel.queue_purge(queue)
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True


def test_killing_a_worker_mid_batch_loses_nothing(broker_only, image_server):
    model_version_label_prior_ensure()
    image_server.delay = 0.15
    urls = [image_server.image(f"/k{i}.jpg", jpeg(textured(100 + i))) for i in range(20)]
    urls += [image_server.image("/k0-again.jpg", jpeg(textured(100)))]  # a duplicate
    urls += [image_server.image("/k-broken.jpg", b"\xff\xd8 broken")]
    first = _start_worker("first")
    second = None
    try:
        batch = imports.photos_import_lines(text="\n".join(f"{u},oslo" for u in urls))
        assert _wait(lambda: batch_counts(batch=batch)["done"] >= 3, timeout=90)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        in_flight = batch_counts(batch=batch)["queued"]
        assert in_flight > 0, "the batch finished before the kill; slow the server down"

        second = _start_worker("second")
        counts = _wait(
            lambda: (c := batch_counts(batch=batch))["queued"] == 0 and c, timeout=120
        ) or batch_counts(batch=batch)
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)

    assert counts == {"queued": 0, "done": 20, "rejected": 1, "duplicate": 1, "failed": 0}
    assert sum(counts.values()) == batch.total == 22
    duplicate = Photo.objects.get(status=Photo.Status.DUPLICATE)
    assert duplicate.duplicate_of.image_url == urls[0]
    published = Photo.objects.filter(status=Photo.Status.PUBLISHED)
    positions = sorted(published.values_list("queue_position", flat=True))
    assert positions == list(range(20))  # every photo published exactly once
    assert all(p.pipeline_step == "" and "publish" in p.analysis for p in published)
