"""The app's Celery tasks, for Celery's autodiscovery: the activation chain's tasks are defined
next to the chain that queues them (ml/activation.py)."""

from .activation import recompute_profiles_chunk, rescore_photos_chunk

__all__ = ["recompute_profiles_chunk", "rescore_photos_chunk"]
