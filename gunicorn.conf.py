"""Gunicorn settings: `gunicorn -c gunicorn.conf.py cityvibes.wsgi`.

Every value can be changed from the environment; the defaults suit one container on one host.
Sizing and the reasons behind each choice: docs/DEPLOYMENT.md.
"""

import os
import shutil


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cpu_count() -> int:
    # The CPUs this process may run on (taskset/cpuset), not every CPU of the host. A container
    # CPU quota (`docker run --cpus`) is not visible here: set WEB_CONCURRENCY there.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Processes x threads = requests served at once. Threads are cheap and most of a request is
# waiting on PostgreSQL; processes give CPU parallelism (the GIL) and each loads its own
# TensorFlow model on its first /classify, so capped at 8 by default to bound memory.
workers = _env_int("WEB_CONCURRENCY", min(2 * _cpu_count() + 1, 8))
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4)

# A request that takes longer than this gets its worker killed and restarted. Generous enough
# for the first /classify of a worker (TensorFlow import + model load), short enough to free
# a stuck worker.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30  # on SIGTERM (deploys), let requests in flight finish
keepalive = 5  # a little longer than nothing, so a proxy can reuse its upstream connections

# Recycle each worker after this many requests (+ up to 200 at random, so the workers do not
# all restart at once): bounds slow memory growth in long-lived processes (TensorFlow, NumPy).
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = 200

# Not preloaded on purpose: TensorFlow is imported lazily in the workers, and forking a
# process after TensorFlow has started its threads is unsafe. Each worker imports the app.
preload_app = False

# No access log: the app writes one JSON line per request itself (django-structlog), with the
# request id; gunicorn's own lines would be a second, unstructured copy. Errors go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# Only these peers may set X-Forwarded-Proto & co. for gunicorn's wsgi.url_scheme: the TLS
# proxy's address (or "*" when only the proxy can reach this port, e.g. a private network).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# The worker heartbeat file is touched constantly; on a container's overlay filesystem that can
# block a worker. /dev/shm is memory-backed.
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    worker_tmp_dir = "/dev/shm"


# --- Prometheus (django-prometheus) across worker processes ------------------------------------
# With several processes each keeps its own counters; prometheus_client's multiprocess mode
# writes them to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them up.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    """Start from an empty metrics directory: files of a previous run would be counted again."""
    if not PROMETHEUS_MULTIPROC_DIR:
        return
    os.makedirs(PROMETHEUS_MULTIPROC_DIR, exist_ok=True)
    # Empty it rather than delete it: the directory itself may be a mount point.
    for entry in os.scandir(PROMETHEUS_MULTIPROC_DIR):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def child_exit(server, worker):
    """Drop a dead worker's live gauges (its counters stay summed in)."""
    if not PROMETHEUS_MULTIPROC_DIR:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
