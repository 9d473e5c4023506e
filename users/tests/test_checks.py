"""The rankers' registry is the one list of ranker names: the setting is checked against it
(users.E001) and the profile's choices come from it."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from users import rankers
from users.checks import check_ranker_setting
from users.models import Profile


@pytest.mark.parametrize("name", list(rankers.RANKERS))
def test_every_registered_ranker_passes_the_check(settings, name):
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": name}
    assert check_ranker_setting() == []


def test_an_unknown_ranker_fails_manage_py_check_with_users_e001(settings):
    settings.CITYVIBES = {**settings.CITYVIBES, "RANKER": "bayesain"}
    (error,) = check_ranker_setting()
    assert error.id == "users.E001"
    assert "'bayesain'" in error.msg
    assert "baseline, bayesian, bayesian-active" in error.hint
    with pytest.raises(SystemCheckError, match=r"users\.E001"):
        call_command("check")


def test_a_missing_ranker_setting_is_reported_too(settings):
    settings.CITYVIBES = {
        key: value for key, value in settings.CITYVIBES.items() if key != "RANKER"
    }
    assert [error.id for error in check_ranker_setting()] == ["users.E001"]


def test_profile_ranker_choices_come_from_the_registry():
    choices = Profile._meta.get_field("ranker").choices
    assert [name for name, _ in choices] == list(rankers.RANKERS)
    assert all(ranker.name == name for name, ranker in rankers.RANKERS.items())
