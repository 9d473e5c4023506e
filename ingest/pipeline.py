"""The photo analysis pipelines: ordered lists of steps named in settings.

Every photo goes through one of them (``Photo.pipeline``): ``import`` (settings.PHOTO_PIPELINE)
for everything that comes from outside, ``generated`` (settings.PHOTO_PIPELINE_GENERATED) for the
demo generator's own photos. Only the last step, ``publish``, puts a photo in the deck.

A step is a plain function ``step(photo) -> dict`` (its output, stored in the photo's
``analysis``). It may raise:

- ``StopPipeline``: the photo leaves the pipeline for good with a status and a reason
  (``Rejected`` for broken, unsafe or low-quality photos, ``Duplicate`` for copies);
- ``TransientStepError``: worth retrying (network, a busy service); the task retries it with
  backoff and marks the photo failed when retries run out.

A step may instead take a list of photos and return {photo id: output or exception}
(``@batched``): the runner then gives it every photo waiting at that step, up to
PHOTO_PIPELINE_BATCH_SIZE, in one call (ingest/batching.py); the model steps do, for one
predict per batch.

Steps must be idempotent: a step run twice on the same photo ends the same (tasks are
``acks_late``, so a killed worker's step runs again)."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

# Steps every pipeline must have, in this order, with publish last: a photo reaches the deck only
# decoded and re-encoded (validate), hashed and compared (dedupe) and scored.
REQUIRED_STEPS = ("validate", "dedupe", "score", "publish")


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


def batched(many: Callable) -> Callable:
    """Mark ``many(photos) -> {photo id: output or exception}`` as a step that runs on
    micro-batches; calling the result on one photo runs a batch of one (raising its exception)."""

    def step(photo) -> dict:
        outcome = many([photo])[photo.pk]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    step.batch = many
    step.__doc__ = many.__doc__
    return step


def batch_function(step: Callable) -> Callable | None:
    return getattr(step, "batch", None)


def batch_wait(pipeline: str, name: str) -> float | None:
    """Seconds a photo's task waits before a batched step (the broker holds it; the worker
    goes on with other work), so that the photos behind it can join its batch; None for other
    steps."""
    if name and batch_function(step_function(pipeline, name)):
        return settings.PHOTO_PIPELINE_BATCH_WAIT_MS / 1000
    return None


def _paths(pipeline: str) -> list[str]:
    if pipeline == "generated":
        return settings.PHOTO_PIPELINE_GENERATED
    if pipeline == "import":
        return settings.PHOTO_PIPELINE
    raise KeyError(f"No pipeline named '{pipeline}'.")


def step_names(pipeline: str = "import") -> list[str]:
    return [path.rsplit(".", 1)[-1] for path in _paths(pipeline)]


def step_function(pipeline: str, name: str) -> Callable:
    for path in _paths(pipeline):
        if path.rsplit(".", 1)[-1] == name:
            return import_string(path)
    raise KeyError(f"'{name}' is not a step of the {pipeline} pipeline.")


def next_step(pipeline: str, name: str) -> str:
    """The step after ``name``; "" after the last one."""
    names = step_names(pipeline)
    index = names.index(name)
    return names[index + 1] if index + 1 < len(names) else ""


def queue_for(name: str) -> str:
    return settings.PHOTO_PIPELINE_QUEUES.get(name, settings.CELERY_TASK_DEFAULT_QUEUE)


@checks.register()
def check_pipelines(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A configured pipeline that skips validation, dedupe or scoring, or does not end with
    publish, would let photos into the deck unchecked: refuse to start."""
    problems = []
    for pipeline, setting in (
        ("import", "PHOTO_PIPELINE"),
        ("generated", "PHOTO_PIPELINE_GENERATED"),
    ):
        names = step_names(pipeline)
        required = [name for name in names if name in REQUIRED_STEPS]
        if (
            required != list(REQUIRED_STEPS)
            or names[-1] != "publish"
            or len(set(names)) != len(names)
        ):
            problems.append(
                checks.Error(
                    f"settings.{setting} must hold each of {', '.join(REQUIRED_STEPS)} once, in "
                    f"that order, and end with publish; it is {', '.join(names)}.",
                    id="ingest.E001",
                )
            )
        if pipeline == "import" and names[0] != "fetch":
            problems.append(
                checks.Error(f"settings.{setting} must start with fetch.", id="ingest.E002")
            )
        for path in _paths(pipeline):
            try:
                import_string(path)
            except ImportError as error:
                problems.append(
                    checks.Error(
                        f"settings.{setting}: {path} cannot be imported: {error}", id="ingest.E003"
                    )
                )
    return problems
