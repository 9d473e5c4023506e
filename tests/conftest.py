"""Fixtures for cross-app tests that need the real parts: PostgreSQL and a Celery broker."""

import pytest
from django.conf import settings
from django.db import connection


@pytest.fixture
def postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


def _real_broker_url() -> str:
    url = settings.CELERY_BROKER_URL
    return url if url.startswith(("redis://", "amqp://", "rediss://", "amqps://")) else ""


@pytest.fixture
def celery_worker_on_broker(db):
    """A real Celery worker (in a thread of this process) consuming from the configured broker;
    tasks are sent over the broker instead of running eagerly."""
    if not _real_broker_url():
        pytest.skip("needs a real broker: set CELERY_BROKER_URL=redis://... or amqp://...")
    from celery.contrib.testing.worker import start_worker

    from cityvibes.celery import app

    app.conf.task_always_eager = False
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            shutdown_timeout=30,
            queues=["celery", "ml"],  # the default queue and TensorFlow's own (settings)
        ):
            yield app
    finally:
        app.conf.task_always_eager = True


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django closes the database connection when a request finishes; its test client turns
    that off, and so must a test whose requests go through the plain WSGI handler: on
    PostgreSQL the closed connection would end the test's transaction (a 500 on every call)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
