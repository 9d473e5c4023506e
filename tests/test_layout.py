"""The layout stays what docs/ARCHITECTURE.md says: every function, module and file it names
exists, modules stay small (or the page says why), and the wiring routes tasks as documented.
The layers and the absence of import circles are checked by import-linter (`make lint`)."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
APPS = ("cityvibes", "core", "photos", "users", "ml", "ingest")
MAX_MODULE_LINES = 300


def _named_in_architecture() -> tuple[set[str], set[str]]:
    """Dotted names (``ingest.runner.pipeline_run_step``) and file paths (``photos/images.py``)
    the page puts in backticks."""
    spans = re.findall(r"`([^`\n]+)`", ARCHITECTURE)
    dotted = {
        span
        for span in spans
        if re.fullmatch(r"[a-z_]+(\.[A-Za-z_][A-Za-z0-9_]*)+", span) and span.split(".")[0] in APPS
    }
    paths = {
        span.split(" ")[0]
        for span in spans
        if re.fullmatch(r"[a-z_]+/[\w/.]*", span.split(" ")[0])
        and span.split("/")[0] in (*APPS, "docs", "bench", "tests", "templates", "static")
    }
    return dotted, paths


def _resolve(dotted: str):
    """The module or attribute a dotted name means: the longest importable module prefix, then
    attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


def test_every_function_and_module_the_architecture_names_exists():
    dotted, _ = _named_in_architecture()
    assert len(dotted) > 30  # the page names the real functions of each path
    missing = []
    for name in sorted(dotted):
        try:
            _resolve(name)
        except (ModuleNotFoundError, AttributeError) as error:
            missing.append(f"{name}: {error}")
    assert missing == []


def test_every_file_the_architecture_names_exists():
    _, paths = _named_in_architecture()
    assert len(paths) > 10
    assert sorted(path for path in paths if not (ROOT / path).exists()) == []


def _long_modules_allowed() -> set[str]:
    """Modules docs/ARCHITECTURE.md lists, with why, under "Modules over 300 lines"."""
    section = ARCHITECTURE.split("## Modules over 300 lines", 1)
    if len(section) < 2:
        return set()
    table = section[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([\w/.]+\.py)` \|", table, flags=re.MULTILINE))


def test_modules_stay_small_or_the_architecture_says_why():
    allowed = _long_modules_allowed()
    long = {}
    for app in (*APPS, "bench"):
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or "/tests/" in relative:
                continue
            lines = len(path.read_text().splitlines())
            if lines > MAX_MODULE_LINES:
                long[relative] = lines
    assert {path for path in long if path not in allowed} == set(), long
    assert allowed <= set(long), "the page lists a module that is short now"


@pytest.mark.parametrize("task", ["rescore_photos_chunk", "recompute_profiles_chunk"])
def test_tensorflow_tasks_are_routed_to_their_own_queue(task):
    from cityvibes.celery import app

    router = app.amqp.router
    assert router.route({}, f"ml.tasks.{task}")["queue"].name == "ml"
    assert router.route({}, "celery.backend_cleanup")["queue"].name == "celery"
    assert f"ml.tasks.{task}" in app.tasks  # registered under the name routes and queues use
