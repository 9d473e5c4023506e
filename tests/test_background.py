"""The embedded default's web process runs eager tasks in its background thread: queuing returns
at once, the task runs in that thread in order, a failing task does not stop the next, and
without the switch (commands, tests) tasks still run inline. In a fresh interpreter, because the
switch is for the whole process."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import os, threading
    os.environ["DJANGO_SETTINGS_MODULE"] = "cityvibes.settings.test"
    import django
    django.setup()
    from celery import shared_task
    from cityvibes import background

    ran = []
    gate = threading.Event()  # a queued task waits here until the caller has checked

    @shared_task(name="tests.slow")
    def slow(label):
        if label != "inline":
            assert gate.wait(30)
        ran.append((label, threading.current_thread().name))

    @shared_task(name="tests.broken")
    def broken():
        raise RuntimeError("boom")

    slow.delay("inline")
    assert ran == [("inline", threading.current_thread().name)], ran

    background.run_eager_tasks_in_background()
    background.run_eager_tasks_in_background()  # a second call changes nothing
    slow.delay("first")
    broken.delay()
    slow.apply_async(("second",))
    assert len(ran) == 1, ran  # the caller went on: nothing ran in it
    gate.set()
    background.wait_for_background_tasks()
    assert [label for label, _ in ran] == ["inline", "first", "second"], ran
    assert {name for _, name in ran[1:]} == {"cityvibes-background-tasks"}, ran
    print("ok")
    """
)


def test_eager_tasks_run_in_the_background_thread_in_order():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
    assert "background task tests.broken failed" in result.stderr
