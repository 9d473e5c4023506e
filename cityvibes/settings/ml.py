"""The models: training weights, activation chunks, image limits, loading at start."""

from .environment import env

# Backbone weights for training: "imagenet" (offline for EfficientNet-Lite0, from a pinned
# package; Keras downloads them for the other backbones, or reuses ~/.keras/models), a path to a
# local weights file (include_top=False), or "none" to train from scratch.
ML_BACKBONE_WEIGHTS = env.str("ML_BACKBONE_WEIGHTS", default="imagenet")
# Photos per rescoring task and profiles per recompute task when a model version is activated.
ML_SCORING_CHUNK_SIZE = env.int("ML_SCORING_CHUNK_SIZE", default=256)
ML_RECOMPUTE_CHUNK_SIZE = env.int("ML_RECOMPUTE_CHUNK_SIZE", default=200)
# Limits on images the CNN decodes: upload size for /classify, and pixels for any image (checked
# from the header before decoding, against decompression bombs).
ML_CLASSIFY_MAX_BYTES = env.int("ML_CLASSIFY_MAX_BYTES", default=10 * 1024 * 1024)
ML_MAX_IMAGE_PIXELS = env.int("ML_MAX_IMAGE_PIXELS", default=40_000_000)
# Load every kind's active model version when a web process (cityvibes.wsgi) or a Celery worker
# process starts, instead of on the first request that needs it (ml.runtime).
ML_PRELOAD_MODELS = env.bool("ML_PRELOAD_MODELS", default=True)
# Training jobs started from the admin (ml.jobs). Without a broker (Celery eager, the embedded
# default) a job runs in a background thread of the process that started it, one at a time;
# False runs it in-process right after the commit (the tests). With a broker, a worker of the
# ml queue runs it, stopped after ML_TRAINING_TIME_LIMIT seconds (and marked failed).
ML_TRAINING_IN_THREAD = env.bool("ML_TRAINING_IN_THREAD", default=True)
ML_TRAINING_TIME_LIMIT = env.int("ML_TRAINING_TIME_LIMIT", default=6 * 3600)
# /classify batching (ml.serving): concurrent requests' images for one model version go through
# one predict of up to ML_CLASSIFY_BATCH_MAX images, collected for at most
# ML_CLASSIFY_BATCH_WAIT_MS after the first one arrives. 1 turns batching off (each request
# predicts alone, in its own thread). Measured in docs/BENCHMARKS.md (bench.classify_concurrency).
ML_CLASSIFY_BATCH_MAX = env.int("ML_CLASSIFY_BATCH_MAX", default=16)
ML_CLASSIFY_BATCH_WAIT_MS = env.float("ML_CLASSIFY_BATCH_WAIT_MS", default=2.0)
