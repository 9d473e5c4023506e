"""Settings shared by every environment.

All configuration comes from environment variables through one reader (``env``); see
``.env.example`` for the full list. With nothing set, the project runs on the embedded default:
SQLite, Celery tasks executed in-process, media on local disk.
"""

import logging
from pathlib import Path

import environ
import structlog
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A developer's .env file is read when present; real deployments set real environment variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_structlog",
    "csp",
    "core",
    "photos",
    "users",
    "ml",
    "ingest",
]

MIDDLEWARE = [
    # Outermost: request count and latency cover everything below, rejections included.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response that has none yet (media sets its own).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before anything reads the body (the CSRF check reads forms in process_view, after this):
    # too-large uploads are refused from Content-Length alone, knowing who sends them.
    "core.middleware.RequestBodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication, so each request's log lines carry the user id as well.
    "django_structlog.middlewares.RequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "cityvibes.urls"
CSRF_FAILURE_VIEW = "core.api.csrf_failure"
WSGI_APPLICATION = "cityvibes.wsgi.application"
ASGI_APPLICATION = "cityvibes.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL=postgres://user@host:5432/name switches to PostgreSQL (psycopg2).
SQLITE_PATH = BASE_DIR / "db.sqlite3"
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers wait for each
    # other (up to `timeout` seconds) instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# The API rate limits count requests in this cache, so every web process must share it in
# production: CACHE_URL=redis://host:6379/1. The default (process memory) suits one process.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://cityvibes")}

# Cookies: the session cookie is never readable by scripts (Django's default); the CSRF cookie
# is not either, since the pages hand the token to their JS in a <meta> tag. Both are SameSite=Lax
# (Django's default), so another site's form posts carry neither.
CSRF_COOKIE_HTTPONLY = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Let Django serve MEDIA_ROOT itself (the embedded default; not for busy production sites).
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=False)
# Only these folders of MEDIA_ROOT are served (re-encoded photos, their normalised copies and
# thumbnails); anything else a mistake might leave there is not.
PUBLIC_MEDIA_PREFIXES = ("photos/",)
LOGIN_URL = "home"
LOGIN_REDIRECT_URL = "swipe"
LOGOUT_REDIRECT_URL = "home"
# Private files (core/storage.py): uploads waiting for validation, import archives, model
# artifacts. Never under MEDIA_ROOT, never served; shared by web and workers like the media.
PRIVATE_FILES_ROOT = env.path("PRIVATE_FILES_ROOT", default=BASE_DIR / "private")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "core.storage.PrivateFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# S3-compatible object storage for photos and model artifacts (AWS S3, MinIO, Ceph, R2...), so
# web and worker processes on several hosts see the same files. Credentials come from
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the host's role. See docs/DEPLOYMENT.md.
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("MEDIA_S3_REGION", default=None),
            "custom_domain": env.str("MEDIA_S3_CUSTOM_DOMAIN", default=None),
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": env.bool("MEDIA_S3_SIGNED_URLS", default=True),
        },
    }
    # Private files under their own prefix, always behind signed requests, never through the
    # media's public domain; a separate bucket if MEDIA_S3_PRIVATE_BUCKET names one.
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **STORAGES["default"]["OPTIONS"],
            "bucket_name": env.str("MEDIA_S3_PRIVATE_BUCKET", default=MEDIA_S3_BUCKET),
            "location": "private",
            "custom_domain": None,
            "default_acl": "private",
            "querystring_auth": True,
        },
    }

# --- Content-Security-Policy (django-csp) ---------------------------------------------------
# The pages' JS is first-party ES modules, so no inline script runs anywhere. Styles allow inline
# attributes (the admin and Swagger/ReDoc set them); images come from this site, data: URIs (the
# API docs' icons) and the media storage's origin when media is elsewhere (S3).
if MEDIA_S3_BUCKET:
    _custom_domain = env.str("MEDIA_S3_CUSTOM_DOMAIN", default="")
    _endpoint = env.str("MEDIA_S3_ENDPOINT_URL", default="")
    MEDIA_ORIGINS = [
        f"https://{_custom_domain}"
        if _custom_domain
        else ("/".join(_endpoint.split("/")[:3]) if _endpoint else "https://*.amazonaws.com")
    ]
else:
    MEDIA_ORIGINS = []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *MEDIA_ORIGINS],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],  # ReDoc's search runs in a worker made from a blob
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Celery ---------------------------------------------------------------------------------
# No broker configured: run tasks eagerly in the calling process (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through Django's LOGGING (structured lines), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Redis: a task taken by a worker that dies (acks_late, not acknowledged) goes back to the queue
# after this many seconds. Longer than any task (and retry countdown); our tasks are idempotent,
# so a redelivery of a slow task is harmless.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.float("CELERY_UNACKED_RESTORE_INTERVAL", default=60.0),
}
# TensorFlow work (scoring, rescoring, recomputing after an activation) has its own queue, so a
# worker that holds a model in memory can be sized and scaled apart from the light tasks:
#   celery -A cityvibes worker -Q celery          # light tasks
#   celery -A cityvibes worker -Q ml -c 1         # TensorFlow, one model per process
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"ml.tasks.*": {"queue": "ml"}}

# --- REST framework and OpenAPI -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.drf.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.drf.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Views name a `throttle_scope`; each class applies its own rate of API_THROTTLE_RATES.
    "DEFAULT_THROTTLE_CLASSES": [
        "core.drf.ScopedUserRateThrottle",
        "core.drf.ScopedIPRateThrottle",
    ],
    # How many proxies in front append to X-Forwarded-For; 0 ignores the header (a client could
    # forge it to dodge the per-IP limits).
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
}
# Rate limits, "<scope>_user" per signed-in user and "<scope>_ip" per client address, in DRF's
# "<n>/<sec|min|hour|day>" form; None turns one off. Override any of them with
# API_THROTTLE_RATES="swipes_user=300/min,classify_ip=none". A limited request gets a 429 with
# Retry-After. A person swipes about once a second at the fastest; an IP may be a whole office.
API_THROTTLE_RATES = {
    "swipes_user": "120/min",
    "swipes_ip": "1200/min",
    "classify_user": "30/min",
    "classify_ip": "60/min",
    "imports_user": "30/min",
    "imports_ip": "60/min",
    "guest_ip": "100/hour",
    "register_ip": "20/hour",
    "login_ip": "20/min",
    # Log-in attempts per target account, from any address (distributed password guessing).
    "login_account": "30/hour",
}
API_THROTTLE_RATES.update(
    {
        scope: None if rate.lower() in ("none", "off", "") else rate
        for scope, rate in env.dict("API_THROTTLE_RATES", default={}).items()
    }
)
# Largest request body, by Content-Length, before any of it is read (413 otherwise). Paths not
# listed take REQUEST_BODY_MAX_BYTES; uploads have their own, a little above the file limits to
# leave room for the multipart envelope.
MULTIPART_OVERHEAD = 64 * 1024
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "City Vibes API",
    "DESCRIPTION": (
        "Swipe on city photos and get the cities that match your taste. Authenticate with "
        "`Authorization: Token <key>` (from `POST /api/v1/auth/guest/`, `/register/` or "
        "`/login/`) or with a browser session. Every error is JSON: "
        '`{"meta": {"type": "error", "code": 400, '
        '"message": "...", "details": {...}}}` with the matching HTTP status.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.add_generic_error_responses",
    ],
}

# --- City Vibes -----------------------------------------------------------------------------
CITYVIBES = {
    # The most photos one "next photos" request may return.
    "NEXT_PHOTOS_MAX": 50,
    # The most cities one recommendations request may return.
    "RECOMMENDATIONS_MAX": 266,
    # How many of the top cities get "because you liked ..." photos in the recommendations.
    "REASON_CITIES": 5,
    # Absolute difference above which a running score counts as drifted from the swipe history.
    "SCORE_DRIFT_TOLERANCE": 1e-9,
    # How cities are ranked and which photo comes next, unless a profile says otherwise:
    # "baseline" (the original add/subtract rule on the fixed global queue), "bayesian" (the
    # Bayesian preference model on the fixed queue) or "bayesian-active" (the Bayesian model with
    # the active queue). See docs/EVALUATION.md.
    "RANKER": env.str("CITYVIBES_RANKER", default="bayesian-active"),
    # Seconds a process reuses the catalogue's ranking space (mean array, city prototypes and
    # look-alike similarity) before reading the photo arrays again.
    "RANKING_SPACE_TTL": env.int("CITYVIBES_RANKING_SPACE_TTL", default=300),
    # Unswiped photos the active queue considers per request (a random sample of the deck).
    "ACTIVE_CANDIDATES": env.int("CITYVIBES_ACTIVE_CANDIDATES", default=500),
}
if CITYVIBES["RANKER"] not in ("baseline", "bayesian", "bayesian-active"):
    raise ImproperlyConfigured(
        "CITYVIBES_RANKER must be baseline, bayesian or bayesian-active, "
        f"not {CITYVIBES['RANKER']!r}."
    )

# Backbone weights for training: "imagenet" (Keras downloads them, or reuses ~/.keras/models),
# a path to a local weights file (include_top=False), or "none" to train from scratch.
ML_BACKBONE_WEIGHTS = env.str("ML_BACKBONE_WEIGHTS", default="none")
# Photos per rescoring task and profiles per recompute task when a model version is activated.
ML_SCORING_CHUNK_SIZE = env.int("ML_SCORING_CHUNK_SIZE", default=256)
ML_RECOMPUTE_CHUNK_SIZE = env.int("ML_RECOMPUTE_CHUNK_SIZE", default=200)
# Limits on images the CNN decodes: upload size for /classify, and pixels for any image (checked
# from the header before decoding, against decompression bombs).
ML_CLASSIFY_MAX_BYTES = env.int("ML_CLASSIFY_MAX_BYTES", default=10 * 1024 * 1024)
ML_MAX_IMAGE_PIXELS = env.int("ML_MAX_IMAGE_PIXELS", default=40_000_000)
# Readiness (/api/v1/health/ready/) requires an active model version with a loadable artifact.
HEALTH_REQUIRE_MODEL = env.bool("HEALTH_REQUIRE_MODEL", default=True)

# --- Photo ingestion pipeline (ingest/pipeline.py) --------------------------------------------
# The ordered analysis steps every imported photo goes through; each is a function
# `step(photo) -> dict` run by one Celery task that hands on to the next. Adding a step is writing
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
        "ingest.steps.publish",
    ],
)
# Steps that need TensorFlow run on the ml queue (see CELERY_TASK_ROUTES).
PHOTO_PIPELINE_QUEUES = {"score": "ml"}
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
PHOTO_QUALITY_GATE = {
    "min_side": env.int("PHOTO_QUALITY_MIN_SIDE", default=200),  # pixels, shorter side
    "min_brightness": env.float("PHOTO_QUALITY_MIN_BRIGHTNESS", default=30.0),  # mean, 0-255
    "min_contrast": env.float("PHOTO_QUALITY_MIN_CONTRAST", default=12.0),  # std dev, 0-255
    "min_sharpness": env.float("PHOTO_QUALITY_MIN_SHARPNESS", default=20.0),  # var of Laplacian
}

# Request body limits by path prefix (the longest matching prefix wins). Under the staff prefixes
# they hold only for a signed-in staff member (everyone else: REQUEST_BODY_MAX_BYTES); the API's
# import checks its token before reading the body, so its limit needs no such rule.
STAFF_BODY_PREFIXES = ("/admin/",)
REQUEST_BODY_LIMITS = {
    "/api/v1/classify": ML_CLASSIFY_MAX_BYTES + MULTIPART_OVERHEAD,
    "/api/v1/photos/import": PHOTO_IMPORT_LIMITS["max_zip_bytes"] + MULTIPART_OVERHEAD,
    "/admin/photos/photo/import/": PHOTO_IMPORT_LIMITS["max_zip_bytes"] + MULTIPART_OVERHEAD,
    "/admin/": PHOTO_FETCH_MAX_BYTES + MULTIPART_OVERHEAD,
}

# --- Logs and metrics -----------------------------------------------------------------------
# One structured event per line: JSON (LOG_FORMAT=json, for log collectors) or aligned
# key=value text (the default, for people). Each request's lines carry its request_id (taken
# from the client's X-Request-ID when sent, echoed in the response), user_id and ip; Celery
# tasks carry the request_id of the request that queued them.
LOG_FORMAT = env.str("LOG_FORMAT", default="console")
if LOG_FORMAT not in ("json", "console"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or console, not {LOG_FORMAT!r}.")
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
# One line per request (request_finished with its status and user); request_started only in DEBUG.
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
_pre_chain = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer()
                if LOG_FORMAT == "json"
                else structlog.dev.ConsoleRenderer(colors=False),
            ],
            "foreign_pre_chain": _pre_chain,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One line per successful task drowns everything else in eager mode.
    "loggers": {"celery.app.trace": {"level": "WARNING"}},
}
structlog.configure(
    processors=[
        *_pre_chain,
        structlog.stdlib.filter_by_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.UnicodeDecoder(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
# Celery workers export their own Prometheus metrics (photos scored, pipeline steps) on this
# port when it is set; the web's are at /metrics. With several processes per host, set
# PROMETHEUS_MULTIPROC_DIR (see gunicorn.conf.py and docs/DEPLOYMENT.md).
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)
# /metrics: with METRICS_TOKEN set, only `Authorization: Bearer <token>` gets the metrics (what
# Prometheus's `authorization` scrape setting sends); without it, /metrics answers only when
# METRICS_PUBLIC is on (the embedded default) and is a 404 otherwise.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_PUBLIC = env.bool("METRICS_PUBLIC", default=False)
