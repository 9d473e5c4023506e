"""A worker keeps its database connection between tasks, as a web process does between requests
(cityvibes/celery.py): a new PostgreSQL connection per task was most of a photo's intake cost."""

from types import SimpleNamespace

import pytest
from django.db import connection

from cityvibes.celery import _close_old_database_connections, app

# serialized_rollback: the flush after a transactional test would drop the migrated city catalog.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _task(is_eager: bool):
    return SimpleNamespace(request=SimpleNamespace(is_eager=is_eager))


def test_celery_leaves_the_connection_to_the_age_and_health_rules():
    assert app.conf.get("CELERY_DB_REUSE_MAX") >= 1_000_000  # its fixup never force-closes


def test_the_connection_survives_a_task():
    connection.ensure_connection()
    opened = connection.connection
    _close_old_database_connections(sender=_task(is_eager=False))
    assert connection.connection is opened  # reused by the next task


def test_the_connection_goes_once_it_is_older_than_its_max_age():
    if connection.vendor != "postgresql":
        pytest.skip("Django never closes the in-memory SQLite test database")
    connection.ensure_connection()
    connection.close_at = 0  # past CONN_MAX_AGE
    _close_old_database_connections(sender=_task(is_eager=False))
    assert connection.connection is None


def test_an_eager_task_never_touches_its_callers_connection():
    connection.ensure_connection()
    opened = connection.connection
    connection.close_at = 0
    _close_old_database_connections(sender=_task(is_eager=True))
    assert connection.connection is opened
