"""How photos enter (ingest/): the pipelines, the fetcher's limits, imports, dedupe and the
quality gate."""

from .environment import env

# The ordered analysis steps every imported photo goes through; each is a function
# `step(photo) -> dict` (or a batched one, ingest/pipeline.py). One Celery task runs a step and
# the steps after it on the same queue, then hands on to the next queue. Adding a step is writing
# one function and naming it here.
# The quality gate runs before dedupe, so a duplicate always points at a photo that passed it.
PHOTO_PIPELINE = env.list(
    "PHOTO_PIPELINE",
    default=[
        "ingest.steps.fetch",
        "ingest.steps.validate",
        "ingest.steps.quality",
        "ingest.steps.dedupe",
        "ingest.steps.score",
        "ingest.steps.score_attributes",
        "ingest.steps.score_imagenet",
        "ingest.steps.publish",
    ],
)
# The demo generator's own photos (ml.demo): nothing to fetch, and no quality gate (its fog and
# rain are blur by design); they are still decoded, re-encoded, hashed, deduplicated and scored.
PHOTO_PIPELINE_GENERATED = env.list(
    "PHOTO_PIPELINE_GENERATED",
    default=[
        "ingest.steps.validate",
        "ingest.steps.dedupe",
        "ingest.steps.score",
        "ingest.steps.score_attributes",
        "ingest.steps.score_imagenet",
        "ingest.steps.publish",
    ],
)
# Steps that need TensorFlow run on the ml queue (see CELERY_TASK_ROUTES); publish too, so a
# batch goes from its first model step to the deck in one task (ingest/batching.py).
PHOTO_PIPELINE_QUEUES = {
    "score": "ml",
    "score_attributes": "ml",
    "score_imagenet": "ml",
    "publish": "ml",
}
# A batched step (the model steps) takes up to this many photos waiting at it in one call. A
# photo's task for it is delivered this long after the step before, so the photos behind it can
# join its batch (a worker on both queues runs their earlier steps meanwhile).
PHOTO_PIPELINE_BATCH_SIZE = env.int("PHOTO_PIPELINE_BATCH_SIZE", default=32)
PHOTO_PIPELINE_BATCH_WAIT_MS = env.int("PHOTO_PIPELINE_BATCH_WAIT_MS", default=500)
# Transient failures (network, a busy database) are retried this many times with backoff.
PHOTO_STEP_MAX_RETRIES = env.int("PHOTO_STEP_MAX_RETRIES", default=5)
PHOTO_FETCH_TIMEOUT = env.float("PHOTO_FETCH_TIMEOUT", default=10.0)  # seconds, connect and read
# Seconds for a whole download, redirects included: a server that drips one byte a second is cut
# off here instead of holding a worker until the task's time limit.
PHOTO_FETCH_DEADLINE = env.float("PHOTO_FETCH_DEADLINE", default=30.0)
PHOTO_FETCH_MAX_BYTES = env.int("PHOTO_FETCH_MAX_BYTES", default=20 * 1024 * 1024)
PHOTO_FETCH_MAX_REDIRECTS = env.int("PHOTO_FETCH_MAX_REDIRECTS", default=5)
# Hosts (names or IPs) that may be fetched although they resolve to loopback, private,
# link-local or metadata addresses. Empty: none (SSRF protection).
PHOTO_FETCH_ALLOWED_HOSTS = env.list("PHOTO_FETCH_ALLOWED_HOSTS", default=[])
PHOTO_NORMALIZED_MAX_SIDE = env.int("PHOTO_NORMALIZED_MAX_SIDE", default=1600)
PHOTO_THUMBNAIL_SIDE = env.int("PHOTO_THUMBNAIL_SIDE", default=256)
# What one import may hold (a zip archive, a folder, an upload request).
# Sizes are counted from the bytes really unpacked, never from the archive's headers.
PHOTO_IMPORT_LIMITS = {
    "max_files": env.int("PHOTO_IMPORT_MAX_FILES", default=5000),
    "max_zip_bytes": env.int("PHOTO_IMPORT_MAX_ZIP_BYTES", default=1024 * 1024 * 1024),
    # Unpacked / packed size of one entry. Photos barely compress (JPEG, PNG, WebP: about 1);
    # a ratio in the hundreds is a zip bomb.
    "max_ratio": env.int("PHOTO_IMPORT_MAX_RATIO", default=50),
}
# Perceptual hashes (64 bits) at most this many bits apart are near-duplicates.
PHOTO_DEDUPE_MAX_DISTANCE = env.int("PHOTO_DEDUPE_MAX_DISTANCE", default=6)
# The quality gate: a photo failing any of these stays out of the deck (rejected, with why).
# min_brightness, min_sharpness and min_jpeg_quality are what the preprocessing study derived
# (docs/preprocessing-study.json "thresholds", docs/EVALUATION.md): where the city CNN's held-out
# top-1 falls 5 points below untouched, the 10th percentile of the measure there.
PHOTO_QUALITY_GATE = {
    "min_side": env.int("PHOTO_QUALITY_MIN_SIDE", default=200),  # pixels, shorter side
    "min_brightness": env.float("PHOTO_QUALITY_MIN_BRIGHTNESS", default=16.4),  # mean, 0-255
    "min_contrast": env.float("PHOTO_QUALITY_MIN_CONTRAST", default=12.0),  # std dev, 0-255
    "min_sharpness": env.float("PHOTO_QUALITY_MIN_SHARPNESS", default=1.7),  # var of Laplacian
    # libjpeg quality estimated from the uploaded file's tables (other formats are not checked)
    "min_jpeg_quality": env.int("PHOTO_QUALITY_MIN_JPEG_QUALITY", default=16),
}

# Width of the demo photos seed_demo draws (4:5, so 1350 px high): the swipe card on a 390 px
# phone at 3x density (ml/synthetic.py draws at any size; its own default is the same).
DEMO_PHOTO_WIDTH = env.int("DEMO_PHOTO_WIDTH", default=1080)
