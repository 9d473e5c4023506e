"""GET /api/v1/photos/next/: the deck size it reports, its query count with the active queue,
and the maths libraries' thread limit that every run mode gets from the settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from users import selectors
from users.selectors import statistics

ROOT = Path(__file__).resolve().parents[2]
NEXT = "/api/v1/photos/next/"


@pytest.fixture
def active_ranker(settings):
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": "bayesian-active"}


@pytest.mark.django_db
def test_the_active_queue_reports_the_size_of_the_deck_it_picks_from(
    guest_client, published_photos, active_ranker
):
    published_photos(12)
    body = guest_client.get(f"{NEXT}?limit=5").json()
    assert len(body["results"]) == 5
    assert body["deck_size"] == 12 == selectors.catalog().deck_size


@pytest.mark.django_db
def test_the_fixed_queue_reports_the_live_deck_size(guest_client, published_photos):
    published_photos(4)
    assert guest_client.get(NEXT).json()["deck_size"] == 4
    published_photos(2)
    assert guest_client.get(NEXT).json()["deck_size"] == 6


@pytest.mark.django_db
def test_next_photos_with_the_active_queue_need_a_constant_number_of_queries(
    guest_client, published_photos, active_ranker, settings, monkeypatch,
    django_assert_max_num_queries,
):  # fmt: skip
    # given a process with its catalog cached (as outside the tests) and a person with swipes
    # made since their statistics were stored
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKING_SPACE_TTL": 300}
    monkeypatch.setattr(statistics, "_catalog_cache", {})
    photos = published_photos(40)
    guest_client.get(NEXT)  # builds the catalog, stores the statistics
    for photo in photos[:10]:
        guest_client.post(
            "/api/v1/swipes/", {"photo": photo.pk, "direction": "left"}, format="json"
        )
    # then token, profile, the catch-up (savepoint, lock, state, new swipes, save, release),
    # the swiped ids and the photos: whatever the number of swipes, photos or cities
    with django_assert_max_num_queries(10):
        assert len(guest_client.get(NEXT).json()["results"]) == 10


# The variables every process of the app gets from cityvibes/settings/environment.py.
MATH_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# Run as ``python -c``: records OPENBLAS_NUM_THREADS at the moment NumPy is first imported,
# then runs ``manage.py check`` (which loads the settings, then the apps, which import NumPy),
# then prints the three variables.
WATCH_NUMPY_IMPORT = """
import os, runpy, sys
seen = []
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" and not seen:
            seen.append(os.environ.get("OPENBLAS_NUM_THREADS"))
sys.meta_path.insert(0, Watch())
sys.argv = ["manage.py", "check"]
try:
    runpy.run_path("manage.py", run_name="__main__")
finally:
    print("numpy imported with OPENBLAS_NUM_THREADS", seen)
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    print("threads", *(os.environ.get(name) for name in names))
"""


def _manage_py_check(**variables: str) -> subprocess.CompletedProcess:
    """``manage.py check`` as `make run` starts runserver: no thread variable but ``variables``."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in (*MATH_THREAD_VARIABLES, "MATH_THREADS")
    }
    clean.update(DJANGO_SETTINGS_MODULE="cityvibes.settings.local", **variables)
    return subprocess.run(
        [sys.executable, "-c", WATCH_NUMPY_IMPORT],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_numpy_is_first_imported_with_one_thread_per_library_in_a_manage_py_process():
    finished = _manage_py_check()
    assert finished.returncode == 0, finished.stderr
    assert "numpy imported with OPENBLAS_NUM_THREADS ['1']" in finished.stdout
    assert "threads 1 1 1" in finished.stdout


def test_math_threads_sets_them_all_and_a_library_variable_already_set_wins():
    finished = _manage_py_check(MATH_THREADS="2", MKL_NUM_THREADS="3")
    assert finished.returncode == 0, finished.stderr
    assert "threads 2 2 3" in finished.stdout


def test_math_threads_below_one_is_refused_with_a_clear_message():
    finished = _manage_py_check(MATH_THREADS="0")
    assert finished.returncode != 0
    assert "MATH_THREADS must be 1 or more" in finished.stderr
