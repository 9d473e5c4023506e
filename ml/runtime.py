"""Trained models, loaded once per process and reused (web and worker processes alike)."""

import functools
import shutil
import tempfile

from core.storage import private_storage


@functools.lru_cache(maxsize=4)
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


def model_for(version):
    """The Keras model of a model version; loaded on first use, then cached."""
    if not version.artifact:
        raise ValueError(f"Model version {version.name} has no trained artifact.")
    return _load(version.pk, version.artifact.name)
