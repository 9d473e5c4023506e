"""Test settings: fast hashing, media in a temp dir (set by conftest), eager tasks by default.

DATABASE_URL still applies, so CI runs the same suite on PostgreSQL. A test that wants a real
broker starts a worker itself (see tests/conftest.py)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-secret-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = True  # tests that need the real broker switch this off themselves
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
SERVE_MEDIA = True  # the browser tests load photos from the live server
# Smaller demo photos: drawing and analysing 1080 x 1350 ones cost about 0.3 s each, and many
# tests fill a deck. The tests of the photos themselves draw them at full size.
DEMO_PHOTO_WIDTH = 360
# The original ranker by default, so tests of the swipe rules see the fixed queue; tests of the
# other rankers switch the setting (or a profile's ranker) themselves.
CITYVIBES = {**CITYVIBES, "RANKER": "baseline", "RANKING_SPACE_TTL": 0}  # noqa: F405
# No rate limits by default: the suite sends many requests from one address in little time.
# tests/test_abuse.py turns them on with small rates.
API_THROTTLE_RATES = dict.fromkeys(API_THROTTLE_RATES)  # noqa: F405
# Tests load models on first use; ml/tests/test_runtime.py calls the preloading itself.
ML_PRELOAD_MODELS = False
# Training jobs run synchronously at commit (ml.jobs), so their tests are deterministic; the
# thread mode's own test turns this on.
ML_TRAINING_IN_THREAD = False
