"""The server-rendered pages of this issue: a city's page, a shared ranking and its link, the
landing page's links, the confirmation after sign-up."""

import pytest
from django.contrib.auth import get_user_model

from users import services
from users.models import RankingShare

pytestmark = pytest.mark.django_db
User = get_user_model()
SWIPES = "/api/v1/swipes/"


def test_a_city_page_shows_its_photos_and_look_alikes_to_anyone(client, published_photos):
    published_photos(6, cities=("paris", "rome"))
    page = client.get("/cities/paris/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<h1 id="city-title">Paris</h1>' in html
    assert html.count('class="city-photo-grid"') == 1 and html.count("/media/photos/") >= 4
    assert 'href="/cities/rome/"' in html  # its look-alike, linked
    assert "Start swiping to see where Paris ranks for you." in html
    assert client.get("/cities/atlantis/").status_code == 404


def test_a_city_page_says_why_it_ranks_there_for_me(client, published_photos):
    user = User.objects.create_user("ada", password="a-long-password-1")
    client.force_login(user)
    paris, rome, paris_2 = published_photos(3, cities=("paris", "rome", "paris"))
    for photo, direction in ((paris, "right"), (rome, "left"), (paris_2, "left")):
        services.swipe_record(user=user, photo_id=photo.pk, direction=direction)
    html = client.get("/cities/paris/").content.decode()
    assert "#1 of the 2 cities in your ranking" in html
    assert "Photos you liked that raised it" in html and "Photos you passed that lowered it" in html
    assert "lean (50: no signal)" in html  # the tests' default ranker is the baseline
    oslo = client.get("/cities/oslo/").content.decode()
    assert "Not in the deck yet" in oslo


def test_a_share_link_shows_the_ranking_read_only_until_it_ends(
    guest_client, client, published_photos
):
    photo = published_photos(1)[0]
    guest_client.post(SWIPES, {"photo": photo.pk, "direction": "right"}, format="json")
    assert guest_client.get("/api/v1/share/").json() == {"url": None, "created_at": None}
    made = guest_client.post("/api/v1/share/")
    assert made.status_code == 201
    url = made.json()["url"]
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert len(token) >= 40 and url.startswith("http://testserver/shared/")
    assert guest_client.get("/api/v1/share/").json()["url"] == url

    page = client.get(f"/shared/{token}/")  # anyone with the link, signed in or not
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer" and page["X-Robots-Tag"] == "noindex"
    html = page.content.decode()
    assert "Someone's top cities" in html and photo.city.name in html
    assert guest_client.user.username not in html  # the ranking, not who made it
    assert "<form" not in html.split("<main", 1)[1]  # nothing to change there

    renewed = guest_client.post("/api/v1/share/").json()["url"]
    assert renewed != url and client.get(f"/shared/{token}/").status_code == 404
    assert RankingShare.objects.count() == 1
    assert guest_client.delete("/api/v1/share/").status_code == 204
    assert client.get(renewed.replace("http://testserver", "")).status_code == 404
    assert guest_client.delete("/api/v1/share/").status_code == 404
    assert client.get("/shared/not-a-token/").status_code == 404


def test_the_landing_page_links_the_admin_for_staff_only(client, db):
    assert "/admin/" not in client.get("/").content.decode()
    staff = User.objects.create_user("root", password="a-long-password-1", is_staff=True)
    client.force_login(staff)
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_the_landing_page_says_the_demo_photos_are_generated(client, published_photos):
    assert "demo photos are generated" not in client.get("/").content.decode()
    photo = published_photos(1)[0]
    photo.is_synthetic = True
    photo.save(update_fields=["is_synthetic"])
    assert "demo photos are generated" in client.get("/").content.decode()


def test_signing_up_confirms_the_account_and_the_saved_swipes(client, published_photos):
    photo = published_photos(1)[0]
    client.post("/start/")
    guest = User.objects.get(profile__is_guest=True)
    services.swipe_record(user=guest, photo_id=photo.pk, direction="right")
    answer = client.post(
        "/register/",
        {
            "username": "grace",
            "email": "",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
        },
        follow=True,
    )
    html = answer.content.decode()
    assert "Welcome, grace: your account is ready. Your 1 swipe is saved." in html
