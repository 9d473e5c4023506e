"""Settings shared by every environment: Django, storage, Celery, the API; the domain's tuning
is in its own modules (ingest, ml, ranking, logs), imported here.

All configuration comes from environment variables through one reader (``env``, environment.py);
see ``.env.example`` for the full list. With nothing set, the project runs on the embedded
default: SQLite, Celery tasks executed in-process, media on local disk.
"""

from .environment import BASE_DIR, env
from .ingest import *  # noqa: F403 (the domain's own settings modules)
from .ingest import PHOTO_FETCH_MAX_BYTES, PHOTO_IMPORT_LIMITS
from .logs import *  # noqa: F403
from .media import *  # noqa: F403
from .ml import *  # noqa: F403
from .ml import ML_CLASSIFY_MAX_BYTES
from .ranking import *  # noqa: F403

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
LOGIN_URL = "home"
LOGIN_REDIRECT_URL = "swipe"
LOGOUT_REDIRECT_URL = "home"
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

# --- Celery ---------------------------------------------------------------------------------
# No broker configured: run tasks eagerly in the calling process (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Without a broker, a web process runs the eager tasks its requests queue in a background thread
# of its own (cityvibes/background.py), not inside the request; commands still run them inline.
# On in `local` (the embedded default).
CELERY_EAGER_TASKS_IN_BACKGROUND = env.bool("CELERY_EAGER_TASKS_IN_BACKGROUND", default=False)
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
    # A worker on several queues takes from them in the order `-Q` names them: with
    # `-Q celery,ml` it runs the photos' intake steps first, and their model steps then find
    # full batches waiting (ingest/batching.py) instead of one photo each.
    "queue_order_strategy": "priority",
}
# TensorFlow work (scoring, rescoring, recomputing after an activation) has its own queue, so a
# worker that holds a model in memory can be sized and scaled apart from the light tasks:
#   celery -A cityvibes worker -Q celery          # light tasks
#   celery -A cityvibes worker -Q ml -c 1         # TensorFlow, one model per process
# Celery's Django fixup closes the database connection around every task unless this is set;
# the worker then closes it by CONN_MAX_AGE and health, as a web request does
# (cityvibes/celery.py).
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"ml.tasks.*": {"queue": "ml"}}

# --- REST framework and OpenAPI -------------------------------------------------------------
REST_FRAMEWORK = {
    # DRF's token authentication with its query compiled once (core.auth); then the session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.auth.TokenAuthentication",
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
    # The docs pages load only this site's files, so they work offline and under the CSP: the
    # sidecar's copies (drf-spectacular's defaults are CDN addresses), and the templates in
    # templates/drf_spectacular/ (no Google Fonts; ReDoc's bundle without its CDN badge image,
    # core.media.redoc_bundle; the site's own icon).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The envelope's meta.type: one enum per value set, named (not numbered by a hash).
    "ENUM_NAME_OVERRIDES": {"SuccessTypeEnum": ["success"], "ErrorTypeEnum": ["error"]},
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.add_generic_error_responses",
    ],
}

# Readiness (/api/v1/health/ready/) requires an active model version with a loadable artifact.
HEALTH_REQUIRE_MODEL = env.bool("HEALTH_REQUIRE_MODEL", default=True)

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
