"""The numbers a person is shown (users/match.py): the Bayesian rankers' chance with its
interval and confidence, and the baseline's lean."""

import math

import numpy as np
import pytest

from users import match, rankers

CITIES, PER_CITY = 12, 30


@pytest.fixture(scope="module")
def catalog():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(CITIES), PER_CITY)
    arrays = np.stack([rng.dirichlet(np.where(np.arange(CITIES) == c, 8.0, 0.3)) for c in labels])
    return arrays, labels, rankers.ranking_space(arrays, labels)


def swiped(catalog, liked_cities, count, seed=1):
    arrays, labels, _ = catalog
    statistics = rankers.SwipeStatistics.empty(CITIES)
    for i in np.random.default_rng(seed).permutation(len(arrays))[:count]:
        statistics.add(arrays[i], 1.0 if labels[i] in liked_cities else -1.0)
    return statistics


def uncapped_chance(space, statistics):
    posterior = rankers.posterior(space, statistics)
    typical = space.features(space.prototypes)
    mean = typical @ posterior.mean
    variance = np.einsum("cd,de,ce->c", typical, posterior.covariance(), typical)
    return match.normal_cdf(mean / np.sqrt(space.noise_variance + variance))


def test_normal_cdf_matches_known_values():
    assert match.normal_cdf([0.0, 1.0, -1.959964]) == pytest.approx([0.5, 0.841345, 0.025], 1e-5)


def test_no_swipes_is_an_even_early_guess(catalog):
    outlook = match.chance_outlook(catalog[2], rankers.SwipeStatistics.empty(CITIES))
    assert outlook.base_chance == pytest.approx(0.5)
    assert outlook.chance == pytest.approx(np.full(CITIES, 0.5))
    assert set(outlook.confidence()) == {"early guess"} and outlook.likes == 0


@pytest.mark.parametrize("nopes", [5, 20, 60])
def test_without_a_like_no_city_rises_above_the_base_chance(catalog, nopes):
    space = catalog[2]
    statistics = swiped(catalog, liked_cities=set(), count=nopes)
    outlook = match.chance_outlook(space, statistics)
    assert outlook.likes == 0 and outlook.base_chance < 0.2  # nopes only: a low like-rate
    assert (outlook.chance <= outlook.base_chance + 1e-12).all()
    assert (outlook.high <= outlook.base_chance + 1e-12).all()
    # the cap is needed: the model alone would lift cities never disliked above it
    assert uncapped_chance(space, statistics).max() > outlook.base_chance


def test_liked_cities_get_high_chances_and_narrowing_intervals(catalog):
    space = catalog[2]
    liked = {0, 1, 2}
    few = match.chance_outlook(space, swiped(catalog, liked, 6))
    many = match.chance_outlook(space, swiped(catalog, liked, CITIES * PER_CITY))
    assert many.likes == 3 * PER_CITY
    top = set(np.argsort(-many.chance)[:3].tolist())
    assert top == liked
    assert (many.chance[list(liked)] > 0.5).all() and (many.chance[3:] < many.base_chance).all()
    assert (many.low <= many.chance).all() and (many.chance <= many.high).all()
    assert ((many.high - many.low) < (few.high - few.low)).all()
    assert (many.unexplained < few.unexplained).all() and (few.unexplained <= 1).all()
    assert set(few.confidence()) <= {"early guess", "taking shape"}
    assert set(many.confidence()) <= {"confident", "fairly sure"}
    assert (many.chance < 1).all()  # a chance, never a certainty


@pytest.mark.parametrize(
    ("share", "label"),
    [(0.3, "confident"), (0.5, "fairly sure"), (0.7, "taking shape"), (0.9, "early guess")],
)
def test_confidence_from_the_unexplained_share(share, label):
    assert match.confidence_from_unexplained(share) == label


def test_the_lean_is_monotone_neutral_at_zero_and_never_100():
    scores = np.array([-50.0, -2.0, -0.1, 0.0, 0.1, 0.6, 2.0, 50.0])
    leans = match.lean(scores)
    assert list(leans) == sorted(leans)
    assert leans[3] == 50 and leans[2] <= 50 and leans[0] == 1 and leans[-1] == 99
    assert leans[5] == round(50 + 49 * math.tanh(0.3))


@pytest.mark.parametrize(
    ("mass", "label"),
    [(0.2, "early guess"), (1.5, "taking shape"), (4, "fairly sure"), (20, "confident")],
)
def test_baseline_confidence_from_the_evidence(mass, label):
    assert match.confidence_from_evidence(mass) == label
