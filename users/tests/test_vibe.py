""" "Your vibe" (users/vibe.py) on simulated people with a known taste over attributes: the
attributes they like and dislike are named on the right side, people without a taste get no
confident lean, and too little data gives an empty vibe with a reason."""

from collections import Counter

import numpy as np
import pytest

from users import vibe

LABELS = [
    "waterfront", "mountains", "greenery", "dense skyline", "tall buildings", "night", "dusk",
    "daylight", "clear sky", "cloudy", "rain", "fog", "snow", "domed roofs", "pointed roofs",
]  # fmt: skip
LIKED, DISLIKED = ("waterfront", "night"), ("fog",)


def scenes(rng, n):
    """Photos as an attribute model sees them: true labels with realistic structure (one time
    of day, one weather, one roof; tall buildings mostly in dense skylines), blurred into
    probabilities like a model's outputs."""
    truth = np.zeros((n, len(LABELS)))
    rows = np.arange(n)
    truth[:, 0] = rng.random(n) < 0.5
    truth[:, 1] = rng.random(n) < 0.35
    truth[:, 2] = rng.random(n) < 0.55
    truth[:, 3] = dense = rng.random(n) < 0.5
    truth[:, 4] = np.where(dense, rng.random(n) < 0.6, rng.random(n) < 0.15)
    truth[rows, 5 + rng.choice(3, n, p=[0.25, 0.3, 0.45])] = 1
    truth[rows, 8 + rng.choice(5, n, p=[0.3, 0.25, 0.2, 0.15, 0.1])] = 1
    roof = rng.choice(3, n, p=[0.35, 0.3, 0.35])
    truth[:, 13], truth[:, 14] = roof == 0, roof == 1
    return truth, np.clip(0.85 * truth + 0.07 + rng.normal(0, 0.08, truth.shape), 0, 1)


def swipes_of_person(seed, n, liked=LIKED, disliked=DISLIKED, strength=3.0):
    """A person who likes a photo with probability sigmoid(-0.5 + w·labels), w = +strength on
    the liked attributes, -strength on the disliked ones."""
    rng = np.random.default_rng(seed)
    truth, X = scenes(rng, n)
    w = np.array([strength * (a in liked) - strength * (a in disliked) for a in LABELS])
    like = 1 / (1 + np.exp(-(-0.5 + truth @ w)))
    return X, np.where(rng.random(n) < like, 1.0, -1.0)


def named(seeds, n, **taste):
    """(counts of what was named, "not x" for leans away, over the people; the vibes)."""
    counts, vibes = Counter(), []
    for seed in seeds:
        X, y = swipes_of_person(seed, n, **taste)
        found = vibe.vibe_estimate(attributes=LABELS, X=X, y=y)
        counts.update(lean.attribute for lean in found.leans_to)
        counts.update(f"not {lean.attribute}" for lean in found.leans_away_from)
        vibes.append(found)
    return counts, vibes


def test_after_80_swipes_the_true_leans_are_the_ones_named_most():
    counts, vibes = named(range(50), 80)
    top_three = {name for name, _ in counts.most_common(3)}
    assert top_three == {"waterfront", "night", "not fog"}, counts
    assert counts["waterfront"] >= 45 and counts["not fog"] >= 40 and counts["night"] >= 40
    # never on the wrong side
    assert counts["fog"] == 0 and counts["not waterfront"] == counts["not night"] == 0
    to = [lean.attribute for found in vibes for lean in found.leans_to]
    assert sum(attribute in LIKED for attribute in to) / len(to) >= 0.5  # complements too
    # a liked attribute comes first
    first = [found.leans_to[0].attribute in LIKED for found in vibes if found.leans_to]
    assert sum(first) >= 0.9 * len(first)


def test_after_40_swipes_most_people_get_a_true_lean_and_none_on_the_wrong_side():
    counts, vibes = named(range(100, 150), 40)
    right = [
        {lean.attribute for lean in found.leans_to} & set(LIKED)
        or {lean.attribute for lean in found.leans_away_from} & set(DISLIKED)
        for found in vibes
    ]
    assert sum(bool(found) for found in right) >= 33
    # the liked attributes are named early, the strongest one for most people
    assert counts["waterfront"] >= 30 and counts["night"] >= 15
    assert counts["fog"] == 0 and counts["not waterfront"] == counts["not night"] == 0


@pytest.mark.parametrize("swipes", [40, 80])
def test_a_person_without_a_taste_mostly_gets_no_confident_lean(swipes):
    _, vibes = named(range(200, 250), swipes, liked=(), disliked=())
    with_leans = [found for found in vibes if found.leans_to or found.leans_away_from]
    assert len(with_leans) <= 5
    assert all(
        found.summary == "No clear lean yet" and found.sureness == "no clear lean yet"
        for found in vibes
        if found not in with_leans
    )


def test_a_named_lean_carries_its_effect_probability_and_the_summary_in_words():
    X, y = swipes_of_person(7, 120)
    found = vibe.vibe_estimate(attributes=LABELS, X=X, y=y)
    assert found.leans_to and found.leans_away_from and found.swipes_used == 120
    needed = vibe.TASTE_LEAN_PROBABILITY
    for lean in found.leans_to:
        assert lean.effect >= vibe.MIN_EFFECT and lean.probability >= needed
    for lean in found.leans_away_from:
        assert lean.effect <= -vibe.MIN_EFFECT and lean.probability >= needed
    effects = [lean.effect for lean in found.leans_to]
    assert effects == sorted(effects, reverse=True)
    to = ", ".join(lean.attribute for lean in found.leans_to)
    away = ", ".join(lean.attribute for lean in found.leans_away_from)
    assert found.summary == f"{to}; not {away}"
    assert found.sureness == vibe.sureness_label(found.sure_at_least)


def test_sureness_is_the_bound_on_every_named_lean_being_right():
    lean = vibe.Lean("waterfront", 0.3, 0.97)
    other = vibe.Lean("fog", -0.2, 0.9)
    sure = vibe.vibe_from_effects(
        vibe.Effects(("a",), np.zeros(1), np.ones(1), np.full(1, 0.5), np.ones(1)),
        swipes_used=20,
    )
    assert sure.sure_at_least is None and sure.sureness == "no clear lean yet"
    assert vibe.Vibe((lean,), (), "", "", 20).sure_at_least == pytest.approx(0.97)
    assert vibe.Vibe((lean,), (other,), "", "", 20).sure_at_least == pytest.approx(0.87)
    assert vibe.sureness_label(0.97) == "very sure"
    assert vibe.sureness_label(0.87) == "fairly sure"
    assert vibe.sureness_label(0.5) == "a first guess"
    assert vibe.summary_text((), (other,)) == "not fog"


def test_a_less_sure_lean_is_named_only_once_the_person_surely_has_a_taste():
    grid = (len(vibe.SCALES), len(vibe.NOISES))
    strong, weak = np.zeros(grid), np.zeros(grid)
    strong[list(vibe.SCALES).index(0.5)], weak[0] = 1 / grid[1], 1 / grid[1]
    positive = np.array([0.95, 0.85, 0.12, 0.5])

    def named_with(weights):
        effects = vibe.Effects(
            ("a", "b", "c", "d"), np.array([0.2, 0.1, -0.1, 0.0]), np.full(4, 0.1), positive,
            weights.ravel(),
        )  # fmt: skip
        found = vibe.vibe_from_effects(effects, swipes_used=30)
        return [lean.attribute for lean in found.leans_to + found.leans_away_from], effects

    names, effects = named_with(weak)
    assert effects.taste == pytest.approx(0.0) and names == ["a"]
    names, effects = named_with(strong)
    assert effects.taste == pytest.approx(1.0) and names == ["a", "b", "c"]


def test_too_few_swipes_only_likes_or_no_attributes_give_an_empty_vibe_with_a_reason():
    X, y = swipes_of_person(1, 40)
    few = vibe.vibe_estimate(attributes=LABELS, X=X[:5], y=y[:5])
    assert few.reason == vibe.REASON_FEW_SWIPES and few.swipes_used == 5
    one_sided = vibe.vibe_estimate(attributes=LABELS, X=X, y=np.ones(40))
    assert one_sided.reason == vibe.REASON_ONE_SIDED
    nothing = vibe.vibe_estimate(attributes=[], X=np.zeros((40, 0)), y=y)
    assert nothing.reason == vibe.REASON_NO_ATTRIBUTES
    for empty in (few, one_sided, nothing):
        assert not empty.leans_to and not empty.leans_away_from and empty.summary == ""


def test_a_misshaped_attribute_matrix_is_refused():
    with pytest.raises(ValueError, match="swipes, attributes"):
        vibe.attribute_effects(LABELS, np.zeros((10, 3)), np.ones(10))
