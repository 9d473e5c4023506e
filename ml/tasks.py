"""The app's Celery tasks, for Celery's autodiscovery: each is defined next to the code that
queues it (the activation chain's in ml/activation.py, the training job's in ml/jobs.py)."""

from .activation import recompute_profiles_chunk, rescore_photos_chunk
from .jobs import run_training_job

__all__ = ["recompute_profiles_chunk", "rescore_photos_chunk", "run_training_job"]
