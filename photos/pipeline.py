"""The photo analysis pipeline: an ordered list of steps named in settings.PHOTO_PIPELINE.

A step is a plain function ``step(photo) -> dict`` (its output, stored in the photo's
``analysis``). It may raise:

- ``StopPipeline``: the photo leaves the pipeline for good with a status and a reason
  (``Rejected`` for broken, unsafe or low-quality photos, ``Duplicate`` for copies);
- ``TransientStepError``: worth retrying (network, a busy service); the task retries it with
  backoff and marks the photo failed when retries run out.

Steps must be idempotent: a step run twice on the same photo ends the same (tasks are
``acks_late``, so a killed worker's step runs again)."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string


class TransientStepError(Exception):
    """A failure that may go away: retry later."""


@dataclass
class StopPipeline(Exception):
    """The photo leaves the pipeline with ``status`` and ``reason``."""

    status: str
    reason: str
    output: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reason


def Rejected(reason: str, output: dict | None = None) -> StopPipeline:
    return StopPipeline("rejected", reason, output or {})


def step_names() -> list[str]:
    return [path.rsplit(".", 1)[-1] for path in settings.PHOTO_PIPELINE]


def step_function(name: str) -> Callable:
    for path in settings.PHOTO_PIPELINE:
        if path.rsplit(".", 1)[-1] == name:
            return import_string(path)
    raise KeyError(f"'{name}' is not a step of PHOTO_PIPELINE.")


def next_step(name: str) -> str:
    """The step after ``name``; "" after the last one."""
    names = step_names()
    index = names.index(name)
    return names[index + 1] if index + 1 < len(names) else ""


def queue_for(name: str) -> str:
    return settings.PHOTO_PIPELINE_QUEUES.get(name, settings.CELERY_TASK_DEFAULT_QUEUE)
