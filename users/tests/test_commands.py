import io

import pytest
from django.core.management import CommandError, call_command

from tests.factories import UserFactory
from users import services
from users.models import Profile

pytestmark = pytest.mark.django_db


def test_recompute_scores_reports_and_fixes_drift(published_photos):
    user = UserFactory()
    for photo in published_photos(3):
        services.swipe_record(user=user, photo_id=photo.pk, direction="right")
    Profile.objects.filter(user=user).update(city_scores={"paris": 42.0})

    with pytest.raises(CommandError, match="1 with drift found") as caught:
        call_command("recompute_scores", "--check", stdout=io.StringIO())
    assert caught.value.returncode == 1

    out = io.StringIO()
    call_command("recompute_scores", stdout=out)
    assert f"drift: {user.username}" in out.getvalue() and "1 with drift fixed" in out.getvalue()

    out = io.StringIO()
    call_command("recompute_scores", "--check", stdout=out)
    assert "0 with drift found" in out.getvalue()


def test_recompute_scores_unknown_user(db):
    with pytest.raises(CommandError, match="No profile for user 'ghost'"):
        call_command("recompute_scores", "--user", "ghost")


def test_load_cities_command(tmp_path):
    csv_file = tmp_path / "cities.csv"
    csv_file.write_text("slug,name\natlantis,Atlantis\nparis,Paris\n")
    out = io.StringIO()
    call_command("load_cities", str(csv_file), stdout=out)
    assert "1 cities created, 0 renamed" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="header line 'slug,name'"):
        call_command("load_cities", str(bad))
