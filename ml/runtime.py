"""Trained models, loaded once per process and reused (web and worker processes alike).

``load_active_models`` loads every active version at process start (cityvibes.wsgi for the web,
the Celery worker's process-init signal for workers) so the first request does not pay for it,
and records what each one added to the process's resident memory (``loaded_models``, the metric
cityvibes_model_memory_bytes, and a log line)."""

import functools
import logging
import os
import resource
import shutil
import tempfile
import time

from core.storage import private_storage

logger = logging.getLogger(__name__)
# (version id, artifact) -> {name, kind, seconds, memory_bytes}: the key of _load's cache
_loaded: dict[tuple[int, str], dict] = {}


# The active version of each kind, and a few named ones (ml.serving keeps as many batchers).
MODELS_KEPT = 8


@functools.lru_cache(maxsize=MODELS_KEPT)
def _load(version_id: int, artifact_name: str):
    from . import cnn  # TensorFlow is imported only by processes that score

    storage = private_storage()
    try:
        return cnn.load_model(storage.path(artifact_name))
    except NotImplementedError:  # remote storage (S3): Keras needs a local .keras file
        with (
            storage.open(artifact_name) as remote,
            tempfile.NamedTemporaryFile(suffix=".keras") as local,
        ):
            shutil.copyfileobj(remote, local)
            local.flush()
            return cnn.load_model(local.name)


def resident_bytes() -> int:
    """This process's resident memory now (Linux /proc; elsewhere its peak so far)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def model_for(version):
    """The Keras model of a model version; loaded on first use, then cached."""
    if not version.artifact:
        raise ValueError(f"Model version {version.name} has no trained artifact.")
    key = (version.pk, version.artifact.name)
    if key not in _loaded:
        from core import metrics

        before, started = resident_bytes(), time.perf_counter()
        model = _load(*key)
        grown = max(0, resident_bytes() - before)
        _loaded[key] = {
            "name": version.name,
            "kind": version.kind,
            "seconds": round(time.perf_counter() - started, 2),
            "memory_bytes": grown,
        }
        metrics.MODEL_MEMORY_BYTES.labels(kind=version.kind, version=version.name).set(grown)
        return model
    return _load(*key)


def loaded_models() -> dict[str, dict]:
    """The versions this process has loaded: {name: {kind, seconds, memory_bytes}}. The first
    one loaded also carries TensorFlow's own import in its memory."""
    return {
        entry["name"]: {k: v for k, v in entry.items() if k != "name"} for entry in _loaded.values()
    }


def load_active_models() -> dict[str, dict]:
    """Load the active version of every kind that has a trained artifact, now; log and return
    what each cost. A version that fails to load is logged and skipped: it fails its requests
    later with the same error instead of keeping the process from starting."""
    from .selectors import model_versions_active

    for version in model_versions_active().values():
        if not version.artifact:
            continue
        try:
            model_for(version)
        except Exception:  # logged; the process still serves what it can
            logger.exception("could not load model version %s", version.name)
    loaded = loaded_models()
    logger.info(
        "models loaded: %s; resident memory %d MB",
        ", ".join(f"{n} ({v['kind']}, +{v['memory_bytes'] // 2**20} MB)" for n, v in loaded.items())
        or "none",
        resident_bytes() // 2**20,
    )
    return loaded
