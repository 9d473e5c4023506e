"""The product's Prometheus metrics and their export.

HTTP request counts and latencies come from django-prometheus's middleware; here are the
product's own: swipes, photos scored, pipeline steps, and the Celery queue lengths (read from the
broker when /metrics is scraped). With several processes per host (gunicorn workers, Celery's
prefork children) set PROMETHEUS_MULTIPROC_DIR: each process writes its samples there and the
export sums them."""

import hmac
import logging
import os

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

SWIPES = Counter(
    "cityvibes_swipes_total",
    "Swipe requests by direction and outcome: created (counted) or retry (already counted).",
    ["direction", "outcome"],
)
PHOTOS_SCORED = Counter(
    "cityvibes_photos_scored_total",
    "Photos scored by a model version (a city array, attributes or ImageNet classes), by kind.",
    ["model_kind"],
)
SCORING_SECONDS = Histogram(
    "cityvibes_scoring_batch_seconds",
    "Time to compute the probability arrays of one batch of photos with a CNN.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MODEL_MEMORY_BYTES = Gauge(
    "cityvibes_model_memory_bytes",
    "Resident memory this process grew by when it loaded a model version (ml.runtime).",
    ["kind", "version"],
    multiprocess_mode="liveall",
)
PIPELINE_STEPS = Histogram(
    "cityvibes_pipeline_step_seconds",
    "Duration of one analysis step of one photo, by step and outcome (next, stopped, retry).",
    ["step", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def _multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def celery_queue_lengths(timeout: float = 2.0) -> dict[str, int]:
    """Messages waiting in each Celery queue, read from the broker; {} with no broker (eager
    mode). Raises the broker's error when it cannot be reached within ``timeout`` seconds."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {}
    from celery import current_app as app  # the project's app (cityvibes.celery), made current

    queues = {settings.CELERY_TASK_DEFAULT_QUEUE, *settings.PHOTO_PIPELINE_QUEUES.values()}
    queues |= {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    lengths = {}
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)
        channel = connection.default_channel
        for queue in sorted(queues):
            try:
                lengths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except connection.channel_errors:  # RabbitMQ: a queue no worker declared yet
                lengths[queue] = 0
                channel = connection.channel()
    return lengths


class QueueLengthCollector:
    """cityvibes_celery_queue_length{queue}, read from the broker at scrape time."""

    def collect(self):
        gauge = GaugeMetricFamily(
            "cityvibes_celery_queue_length", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        try:
            lengths = celery_queue_lengths()
        except Exception as error:  # a scrape must not fail because the broker is down
            logger.warning("queue length unavailable: %s", error)
            lengths = {}
        for queue, length in lengths.items():
            gauge.add_metric([queue], length)
        yield gauge


_queue_collector = QueueLengthCollector()
REGISTRY.register(_queue_collector)


def _registry() -> CollectorRegistry:
    """Every process's samples with PROMETHEUS_MULTIPROC_DIR, else this process's."""
    if not _multiprocess():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def metrics_view(request):
    """GET /metrics: Prometheus text format. With METRICS_TOKEN, only for ``Authorization:
    Bearer <token>`` (401 otherwise); without it, a 404 unless METRICS_PUBLIC is on. Keep it on
    the internal network all the same (see DEPLOYMENT)."""
    if settings.METRICS_TOKEN:
        if not _bearer_matches(request, settings.METRICS_TOKEN):
            return HttpResponse(
                "Send the metrics token: Authorization: Bearer <token>.\n",
                status=401,
                content_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    elif not settings.METRICS_PUBLIC:
        raise Http404("No metrics here.")
    registry = _registry()
    if registry is not REGISTRY:
        registry.register(_queue_collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _bearer_matches(request, token: str) -> bool:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    # Bytes, compared in constant time: a header's characters are its raw bytes (latin-1), and
    # hmac refuses non-ASCII text.
    sent = credentials.strip().encode("latin-1", "replace")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent, token.encode())


def start_worker_metrics_server(port: int) -> None:
    """Serve a Celery worker's metrics (all its pool processes' with PROMETHEUS_MULTIPROC_DIR)
    on ``port``, from the worker's main process."""
    start_http_server(port, registry=_registry())
    logger.info("worker metrics on port %s", port)


CLASSIFY_BATCH_SIZE = Histogram(
    "cityvibes_classify_batch_size",
    "Images per model predict of /classify (ml.serving): 1 when alone or with batching off.",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
