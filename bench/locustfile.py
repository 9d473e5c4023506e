"""Locust users for bench/loadtest.py (which starts the servers and runs the stages).

- ``Swiper``: a person on the app. Starts as a guest, fetches the next photos in batches of 10,
  swipes each one after looking at it for 0.5-1.5 s, and reads the ranked cities every 10 swipes.
  Like a phone on a bad network it retries a swipe that got no answer (connection refused or
  reset, timeout, 5xx, 429) with the same body until it is acknowledged, and 5 % of its swipes are
  double taps: the same swipe sent twice at once.
- ``FastSwiper``: the same swipes with no pause (the swipe endpoint's own throughput).
- ``Pinger``: GET /api/v1/health/live/ with no pause: a DRF view without database or
  authentication, the framework's floor on this machine.

Every acknowledged swipe (201 created or 200 already counted) goes into a ledger written to
$LOADTEST_LEDGER at the end, one JSON line per person: {"token", "swipes": {photo: direction},
"unacknowledged": [...]}, for the driver to compare with the database.
"""

import json
import os
import random

import gevent
from locust import FastHttpUser, between, constant, events, task
from locust.exception import StopUser

LEDGER: list[dict] = []
RETRY_STATUSES = {0, 429, 500, 502, 503, 504}
RETRY_BUDGET_SECONDS = 60.0


class _Person(FastHttpUser):
    abstract = True
    network_timeout = 10.0
    connection_timeout = 5.0
    double_tap_share = 0.05

    def on_start(self):
        self.token = ""
        self.acknowledged: dict[int, str] = {}
        self.unacknowledged: list[int] = []
        self.in_flight = 0  # a swipe sent but not yet answered when the run stopped
        self.queue: list[int] = []
        self.rng = random.Random()
        while not self.token:
            with self.client.post(
                "/api/v1/auth/guest/", name="POST /auth/guest/", catch_response=True
            ) as response:
                if response.status_code == 201:
                    self.token = response.json()["token"]
                else:
                    response.failure(f"guest: {response.status_code}")
                    gevent.sleep(1)
        self.headers = {"Authorization": f"Token {self.token}"}

    def on_stop(self):
        if self.token:
            LEDGER.append(
                {
                    "token": self.token,
                    "swipes": self.acknowledged,
                    "unacknowledged": self.unacknowledged + [self.in_flight] * bool(self.in_flight),
                }
            )

    def _next_photo(self, batch: int) -> int:
        if not self.queue:
            with self.client.get(
                f"/api/v1/photos/next/?limit={batch}",
                headers=self.headers,
                name="GET /photos/next/",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"next: {response.status_code}")
                    return 0
                self.queue = [photo["id"] for photo in response.json()["results"]]
            if not self.queue:
                raise StopUser()  # swiped the whole deck
        return self.queue.pop(0)

    def _send_swipe(self, photo: int, direction: str) -> int:
        with self.client.post(
            "/api/v1/swipes/",
            json={"photo": photo, "direction": direction},
            headers=self.headers,
            name="POST /swipes/",
            catch_response=True,
        ) as response:
            if response.status_code in (200, 201):
                response.success()
            else:
                response.failure(f"swipe: {response.status_code}")
            return response.status_code

    def _swipe(self, photo: int) -> None:
        """Send one swipe until the server acknowledges it (retrying like a real client)."""
        direction = self.rng.choice(("left", "right"))
        self.in_flight = photo
        waited, backoff = 0.0, 0.2
        while waited < RETRY_BUDGET_SECONDS:
            if self.rng.random() < self.double_tap_share:
                taps = [gevent.spawn(self._send_swipe, photo, direction) for _ in range(2)]
                gevent.joinall(taps)
                statuses = [tap.value for tap in taps]
            else:
                statuses = [self._send_swipe(photo, direction)]
            if any(status in (200, 201) for status in statuses):
                self.acknowledged[photo] = direction
                self.in_flight = 0
                return
            if not all(status in RETRY_STATUSES for status in statuses):
                break  # a real refusal (4xx): the client gives up on this swipe
            gevent.sleep(backoff)
            waited += backoff
            backoff = min(backoff * 2, 5.0)
        self.in_flight = 0
        self.unacknowledged.append(photo)


class Swiper(_Person):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        super().on_start()
        self.swipes = 0

    @task
    def swipe_next(self):
        photo = self._next_photo(batch=10)
        if not photo:
            return
        self._swipe(photo)
        self.swipes += 1
        if self.swipes % 10 == 0:
            self.client.get(
                "/api/v1/recommendations/?limit=10&reasons=2",
                headers=self.headers,
                name="GET /recommendations/",
            )


class FastSwiper(_Person):
    wait_time = constant(0)
    double_tap_share = 0.0

    @task
    def swipe_next(self):
        photo = self._next_photo(batch=50)
        if photo:
            self._swipe(photo)


class Pinger(FastHttpUser):
    wait_time = constant(0)

    @task
    def live(self):
        self.client.get("/api/v1/health/live/", name="GET /health/live/")


@events.test_stop.add_listener
def _write_ledger(environment, **kwargs):
    path = os.environ.get("LOADTEST_LEDGER")
    if not path:
        return
    with open(path, "a") as ledger:
        for person in LEDGER:
            ledger.write(json.dumps(person) + "\n")
