"""The browser pages through Django's test client: guest start, pages that need a profile,
registering a guest in place, logging in and out (Django's auth forms and CSRF)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from users.models import Profile

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_home_offers_a_one_click_start_and_the_pages_need_a_profile(client):
    home = client.get("/")
    assert b"Start swiping" in home.content
    for page in ("/swipe/", "/results/"):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"] == f"/?next={page}"


def test_guest_start_logs_in_a_new_guest_once(client):
    response = client.post("/start/")
    assert response.status_code == 302 and response["Location"] == "/swipe/"
    guest = User.objects.get()
    assert guest.profile.is_guest
    client.post("/start/")  # a second click keeps the same guest
    assert User.objects.count() == 1
    page = client.get("/swipe/")
    assert page.status_code == 200 and b'"isGuest": true' in page.content
    assert client.get("/start/").status_code == 405


def test_register_upgrades_the_guest_in_place_and_shows_errors(client):
    client.post("/start/")
    guest = User.objects.get()
    Profile.objects.filter(user=guest).update(swipe_count=3)

    bad = client.post("/register/", {"username": "x y", "password1": "short", "password2": "other"})
    assert bad.status_code == 200
    assert set(bad.context["form"].errors) == {"username", "password2"}
    weak = client.post(
        "/register/", {"username": "newbie", "password1": "short", "password2": "short"}
    )
    assert "too short" in str(weak.context["form"].errors["password1"])
    ok = client.post(
        "/register/",
        {"username": "newbie", "password1": "a-long-pass-123", "password2": "a-long-pass-123"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/swipe/"
    user = User.objects.get()
    assert user.pk == guest.pk and user.username == "newbie" and not user.profile.is_guest
    assert user.profile.swipe_count == 3
    assert client.get("/register/").status_code == 302  # registered people are sent on


def test_login_and_logout_use_django_auth_with_csrf(db):
    User.objects.create_user("alex", password="a-long-pass-123")
    browser = Client(enforce_csrf_checks=True)
    form = browser.get("/login/")
    token = form.cookies["csrftoken"].value
    assert browser.post("/login/", {"username": "alex", "password": "x"}).status_code == 403
    wrong = browser.post(
        "/login/", {"username": "alex", "password": "wrong", "csrfmiddlewaretoken": token}
    )
    assert wrong.status_code == 200 and wrong.context["form"].errors
    right = browser.post(
        "/login/",
        {"username": "alex", "password": "a-long-pass-123", "csrfmiddlewaretoken": token},
    )
    assert right.status_code == 302 and right["Location"] == "/swipe/"
    assert browser.get("/swipe/").status_code == 200
    token = browser.cookies["csrftoken"].value
    out = browser.post("/logout/", {"csrfmiddlewaretoken": token})
    assert out.status_code == 302 and browser.get("/swipe/").status_code == 302
