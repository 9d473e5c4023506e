"""The doors in: log-in, sign-up and guest start, each through the API and a browser form (and
the admin's log-in page). One rate limit per action whatever the door, counted in the shared
cache; and a guest registered twice at once becomes one account."""

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from core import ratelimit
from users import services as user_services

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rates(settings):
    """rates(login_ip="2/hour", ...): these limits on, every other one off."""

    def set_rates(**scoped):
        settings.API_THROTTLE_RATES = dict.fromkeys(settings.API_THROTTLE_RATES) | scoped

    return set_rates


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password=PASSWORD, is_staff=True)


# Each door takes the client address and returns the response; the form doors use a fresh
# browser, as an attacker would.


def _api_login(address, username="alice", password="wrong"):
    body = {"username": username, "password": password}
    return APIClient().post("/api/v1/auth/login/", body, format="json", REMOTE_ADDR=address)


def _form_login(address, username="alice", password="wrong"):
    body = {"username": username, "password": password}
    return Client().post("/login/", body, REMOTE_ADDR=address)


def _admin_login(address, username="alice", password="wrong"):
    body = {"username": username, "password": password}
    return Client().post("/admin/login/", body, REMOTE_ADDR=address)


LOGIN_DOORS = {"api": _api_login, "form": _form_login, "admin": _admin_login}


def _api_guest(address):
    return APIClient().post("/api/v1/auth/guest/", REMOTE_ADDR=address)


def _form_guest(address):
    return Client().post("/start/", REMOTE_ADDR=address)


def _api_register(address, username="newbie"):
    body = {"username": username, "password": PASSWORD}
    return APIClient().post("/api/v1/auth/register/", body, format="json", REMOTE_ADDR=address)


def _form_register(address, username="newbie"):
    body = {"username": username, "password1": PASSWORD, "password2": PASSWORD}
    return Client().post("/register/", body, REMOTE_ADDR=address)


def _assert_refused(response) -> str:
    """A 429 with Retry-After from any door; the message the person sees."""
    assert response.status_code == 429, response.content[:300]
    wait = int(response["Retry-After"])
    assert 0 < wait <= 3600
    if response["Content-Type"].startswith("application/json"):
        return response.json()["meta"]["message"]
    errors = response.context["form"].non_field_errors() if "form" in response.context else []
    message = errors[0] if errors else response.context["error"]
    assert f"Try again in {wait} seconds." in message
    assert message in response.content.decode()
    return message


def _assert_not_refused(response):
    assert response.status_code != 429, response.content[:300]


# --- log-in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("door", LOGIN_DOORS)
def test_each_log_in_door_is_limited_per_address_without_checking_the_password(rates, alice, door):
    rates(login_ip="2/hour")
    attempt = LOGIN_DOORS[door]
    for _ in range(2):
        _assert_not_refused(attempt("10.0.0.1"))

    refused = attempt("10.0.0.1", password=PASSWORD)  # the right password, too late

    message = _assert_refused(refused)
    if door != "api":
        assert message.startswith("Too many log-in attempts. Try again in ")
        assert "_auth_user_id" not in refused.wsgi_request.session  # not logged in
    _assert_not_refused(attempt("10.0.0.2"))  # another address has its own budget


@pytest.mark.parametrize(
    ("first", "then"),
    [("api", "form"), ("form", "api"), ("api", "admin"), ("admin", "api"), ("form", "admin")],
)
def test_log_in_doors_share_one_budget_per_address(rates, alice, first, then):
    rates(login_ip="3/hour")
    for _ in range(2):
        _assert_not_refused(LOGIN_DOORS[first]("10.0.0.1"))
    _assert_not_refused(LOGIN_DOORS[then]("10.0.0.1"))  # 2 + 1: the third of three
    _assert_refused(LOGIN_DOORS[then]("10.0.0.1"))
    _assert_refused(LOGIN_DOORS[first]("10.0.0.1"))


def test_log_in_is_limited_per_account_from_any_address_and_door(rates, alice):
    rates(login_account="3/hour")
    _assert_not_refused(_api_login("10.0.0.1"))
    _assert_not_refused(_form_login("10.0.0.2"))
    _assert_not_refused(_admin_login("10.0.0.3", username="ALICE"))  # one account, any case

    _assert_refused(_api_login("10.0.0.4"))
    _assert_refused(_form_login("10.0.0.5", password=PASSWORD))
    _assert_refused(_admin_login("10.0.0.6", username=" Alice "))
    _assert_not_refused(_form_login("10.0.0.7", username="bob"))  # other accounts are not


def test_the_right_password_logs_in_below_the_limits(rates, alice):
    rates(login_ip="2/hour", login_account="3/hour")
    _assert_not_refused(_form_login("10.0.0.1"))
    right = _form_login("10.0.0.1", password=PASSWORD)
    assert right.status_code == 302 and right["Location"] == "/swipe/"
    staff = _admin_login("10.0.0.2", password=PASSWORD)
    assert staff.status_code == 302 and staff.wsgi_request.session["_auth_user_id"]


def test_showing_the_forms_counts_nothing(rates, alice):
    rates(login_ip="1/hour", login_account="1/hour", register_ip="1/hour")
    browser = Client()
    for path in ("/login/", "/admin/login/", "/register/") * 3:
        assert browser.get(path).status_code == 200, path
    _assert_not_refused(_form_login("127.0.0.1"))
    _assert_not_refused(_form_register("127.0.0.1"))


def test_the_admin_log_in_page_shows_the_limit_as_a_form_error(rates, alice):
    rates(login_ip="1/hour")
    _admin_login("10.0.0.1")

    refused = _admin_login("10.0.0.1", password=PASSWORD)

    message = _assert_refused(refused)
    # where the admin shows form errors
    assert re.search(rf'class="errornote">\s*{re.escape(message)}', refused.content.decode())
    assert refused.context["site_header"] == "Django administration"  # the admin's own page


def test_forms_find_the_client_address_as_the_api_does(rates, settings, alice):
    rates(login_ip="2/hour")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    behind_proxy = {"REMOTE_ADDR": "10.9.9.9"}
    body = {"username": "alice", "password": "wrong"}
    api = APIClient().post(
        "/api/v1/auth/login/", body, format="json", HTTP_X_FORWARDED_FOR="1.2.3.4", **behind_proxy
    )
    _assert_not_refused(api)
    form = Client(HTTP_X_FORWARDED_FOR="forged, 1.2.3.4", **behind_proxy)
    _assert_not_refused(form.post("/login/", body))
    _assert_refused(form.post("/login/", body))
    other = Client(HTTP_X_FORWARDED_FOR="5.6.7.8", **behind_proxy)
    _assert_not_refused(other.post("/login/", body))


# --- guest start and sign-up ---------------------------------------------------------------------


@pytest.mark.parametrize(("first", "then"), [(_api_guest, _form_guest), (_form_guest, _api_guest)])
def test_guest_doors_share_one_budget_per_address(rates, first, then):
    rates(guest_ip="2/hour")
    _assert_not_refused(first("10.0.0.1"))
    _assert_not_refused(then("10.0.0.1"))

    refused = then("10.0.0.1")

    message = _assert_refused(refused)
    assert User.objects.count() == 2  # the refused door made nobody
    if then is _form_guest:
        assert message.startswith("Too many guest starts. Try again in ")
        assert "_auth_user_id" not in refused.wsgi_request.session
    _assert_refused(first("10.0.0.1"))
    _assert_not_refused(first("10.0.0.2"))


@pytest.mark.parametrize(
    ("first", "then"), [(_api_register, _form_register), (_form_register, _api_register)]
)
def test_sign_up_doors_share_one_budget_per_address(rates, first, then):
    rates(register_ip="2/hour")
    _assert_not_refused(first("10.0.0.1", username="first"))
    _assert_not_refused(then("10.0.0.1", username="second"))

    refused = then("10.0.0.1", username="third")

    message = _assert_refused(refused)
    assert not User.objects.filter(username="third").exists()
    if then is _form_register:
        assert message.startswith("Too many sign-ups. Try again in ")
    _assert_refused(first("10.0.0.1", username="fourth"))
    _assert_not_refused(first("10.0.0.2", username="fifth"))


# --- the counters ------------------------------------------------------------------------------


def test_a_window_holds_the_rate_then_opens_again(rates, rf):
    rates(guest_ip="2/s")
    request = rf.post("/start/")
    assert [ratelimit.hit(request, "guest", "ip") for _ in range(2)] == [None, None]
    assert ratelimit.hit(request, "guest", "ip") == 1
    time.sleep(1.1)
    assert ratelimit.hit(request, "guest", "ip") is None


def test_parallel_attempts_cannot_slip_past_the_limit(rates, rf):
    rates(login_account="5/hour")
    request = rf.post("/login/")
    with ThreadPoolExecutor(max_workers=8) as pool:
        waits = list(
            pool.map(lambda _: ratelimit.attempt(request, "login", account="alice"), range(40))
        )
    assert waits.count(None) == 5


# --- one guest registered twice at once ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_registrations_of_one_guest_at_once_make_one_account(postgres_only, monkeypatch):
    # given a guest, and two registrations of it that have both passed the early "still a
    # guest?" check before either writes (the barrier holds each until the other is there)
    _, token = user_services.guest_create()
    barrier = threading.Barrier(2, timeout=10)
    validate = user_services.validate_password

    def validate_together(password, user=None):
        barrier.wait()
        validate(password, user=user)

    monkeypatch.setattr(user_services, "validate_password", validate_together)

    def register(username: str):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        try:
            body = {"username": username, "password": PASSWORD}
            response = client.post("/api/v1/auth/register/", body, format="json")
            return username, response.status_code, response.json()
        finally:
            connection.close()  # each thread has its own connection

    # when both are sent at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(register, ["ada", "grace"]))

    # then one is created and the other is a conflict, and the created one can log in
    assert sorted(code for _, code, _ in results) == [201, 409]
    (winner,) = [name for name, code, _ in results if code == 201]
    (loser_body,) = [body for _, code, body in results if code == 409]
    assert "already registered" in loser_body["meta"]["message"]
    assert User.objects.get(pk=token.user_id).username == winner
    login = APIClient().post(
        "/api/v1/auth/login/", {"username": winner, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200
