"""The embedded default's background worker: without a broker, Celery runs tasks eagerly, that
is inside whatever queued them. For management commands that is what we want (seed_demo waits for
its photos), but in a web request it made a 4-photo zip upload hold the admin page for 17 s (the
pipeline's steps and the first model load ran in the request). So the web process
(cityvibes/wsgi.py, which runserver serves too) hands eager tasks to one background thread of its
own, in the order they were queued: the request returns at once, and the admin's progress pages
show the work moving. With a broker nothing changes: tasks go to the workers.

The hook is Celery's ``Task.apply_async``, wrapped once for every task class (the activation's
``ActivationTask`` and the pipeline's tasks alike); the thread then calls the original, which runs
the task eagerly there, retries included."""

import logging
import queue
import threading

from celery.app.task import Task
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

_jobs: "queue.Queue[tuple]" = queue.Queue()
_started = threading.Lock()
_thread: threading.Thread | None = None
_eager_apply_async = Task.apply_async


def _work() -> None:
    while True:
        task, args, kwargs, options = _jobs.get()
        close_old_connections()
        try:
            _eager_apply_async(task, args, kwargs, **options)
        except Exception:  # logged; the next task still runs
            logger.exception("background task %s failed", task.name)
        finally:
            connections.close_all()
            _jobs.task_done()


def _apply_in_background(self, args=None, kwargs=None, **options):
    if not self._get_app().conf.task_always_eager:
        return _eager_apply_async(self, args, kwargs, **options)
    _jobs.put((self, args, kwargs, options))
    return None


def run_eager_tasks_in_background() -> None:
    """From now on, eager tasks queued by this process run in its background thread. Call it
    once, in a web process of the embedded default; idempotent."""
    global _thread
    with _started:
        if _thread is not None:
            return
        _thread = threading.Thread(target=_work, name="cityvibes-background-tasks", daemon=True)
        _thread.start()
        Task.apply_async = _apply_in_background
    logger.info("embedded default: eager tasks run in a background thread")


def wait_for_background_tasks() -> None:
    """Block until every task queued so far has run (tests, and a clean shutdown)."""
    _jobs.join()
