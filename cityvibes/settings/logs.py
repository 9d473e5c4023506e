"""Logs (structured, one event per line, with request ids) and metrics (Prometheus)."""

import logging

import structlog
from django.core.exceptions import ImproperlyConfigured

from .environment import env

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
