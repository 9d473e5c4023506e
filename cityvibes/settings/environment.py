"""The one reader of the environment, shared by every settings module: a developer's .env file
is read when present; real deployments set real environment variables.

It also limits the maths libraries' thread pools, here because every run mode (runserver,
gunicorn, celery, manage.py commands, pytest) loads the settings before anything imports NumPy:
OpenBLAS otherwise starts a pool as large as the machine in every process, and request threads
x BLAS threads fight over the cores (measured: GET /photos/next/ 1.1 s at the median under
gunicorn, up to 700 ms on runserver, instead of tens of ms). MATH_THREADS (default 1: one BLAS
thread per request or task thread) sets them all; each library's own variable, when set, wins.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

MATH_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_math_threads() -> None:
    """Set the thread-pool size of OpenBLAS, OpenMP and MKL to MATH_THREADS, before NumPy is
    imported (they read it once, when loaded). A variable already set is kept."""
    threads = env.int("MATH_THREADS", default=1)
    if threads < 1:
        raise ValueError(f"MATH_THREADS must be 1 or more, not {threads}.")
    for name in MATH_THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))


limit_math_threads()
