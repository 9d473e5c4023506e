""" "Your vibe": which photo attributes a person leans to and away from, estimated from their
swipes and the attribute model's outputs. Plain NumPy, no Django, like users/rankers.py, so the
evaluation harness (bench/evaluate_vibe.py) runs the same code as the app.

A swipe is a photo's attribute vector x (one probability per attribute, from the multi-label
attribute model) and the answer y = +1 (like) or -1 (nope). The labels are whatever the
deployment's attribute model names; nothing here knows a vocabulary.

The model: a Bayesian linear regression of the answer on the centred attribute probabilities,
y = b + (x - x̄)ᵀβ + ε, ε ~ N(0, σ²), fitted jointly over all attributes, so correlated ones
(night and daylight, fog and clear sky) share the evidence instead of each taking credit for it.
Because y is ±1, E[y] = 2·P(like) - 1, so β_j / 2 is the **effect**: how much the chance of a
like changes when a photo goes from not showing the attribute (probability 0) to showing it (1),
the other attributes held equal.

The prior: β_j ~ N(0, τ²) independently, a weak prior on the like-rate b, with the taste
strength τ and the noise σ² not fixed but averaged over a grid (SCALES x NOISES, uniform prior)
by their evidence p(y | τ, σ²): Bayesian model averaging over a hierarchical prior. Why: with
~15 attributes and a fixed prior a person without any taste gets a few 90 %-sure leans by
chance (multiple comparisons); here their swipes favour a small τ, which shrinks every effect
towards 0 together (in bench/evaluate_vibe.py no-taste people get a lean 0-4 % of the time).
Given (τ, σ²) the posterior is Gaussian, N(m, S), so P(effect > 0) = Σ_k w_k Φ(m_jk / s_jk)
with w_k the grid's posterior weights. Automatic relevance determination (one τ_j per
attribute, type-II maximum likelihood) was tried and rejected: it named leans for 76-90 % of
no-taste people and its "very sure" was right a third of the time. Mutually exclusive groups
(night + dusk + daylight ≈ 1) cannot tell "likes night" from "dislikes daylight and dusk"; the
prior splits the credit over the group, so either may be named.

**Naming.** An attribute is named as a lean **to** when P(effect > 0) ≥ p* and effect ≥
MIN_EFFECT, **away from** when P(effect < 0) ≥ p* and effect ≤ -MIN_EFFECT; each side sorted
by |effect|, at most MAX_LEANS. p* is LEAN_PROBABILITY (0.9), lowered to TASTE_LEAN_PROBABILITY
(0.8) once the person surely has a taste: the posterior probability that τ ≥ TASTE_SCALE
(Σ w_k over those grid points) is at least TASTE_PROBABILITY. A lean's ``probability`` is the
posterior probability of its stated direction either way; the rule only decides what is shown.
Why: the product promise is to name liked attributes after 20-40 swipes. 0.9 alone named 12 % /
42 % of them at 20 / 40 swipes (bench/evaluate_vibe.py, 500 people); 0.8 alone 30 % / 66 % but
gave people without a taste a lean 14-18 % of the time (15 chances each). The taste question is
one question over all attributes together, so it keeps that multiplicity in check: the rule
names 23 % / 56 % (89 % at 80) and no-taste people get a lean 3-4 % of the time. The price is
precision: 46-51 % of named leans are true ones (62-67 % counting a complement such as "not
daylight" for a night lover), against 64-66 % (74-78 %) with 0.9 alone. Gating alone (0.8 after
the taste question, nothing before) was dropped: where attributes are independent
(users/tests/test_vibe.py) τ stays uncertain longer and it named less than 0.9 alone.
Tried and measured, not kept (same bench): one regression per attribute alone (Bayesian linear,
or spike-and-slab): at a no-taste rate ≤ 5 % it names fewer liked attributes (6 % / 25 % at
20 / 40 swipes), because the joint fit removes the other leans' noise from each effect; a joint
spike-and-slab prior (at most 3-4 attributes matter): precise (0.9) but names 4-9 % / 15-29 %.

The **sureness** of the whole summary is a lower bound on the chance that every named lean
is right, 1 - Σ(1 - p_i) (Bonferroni): "very sure" ≥ 0.95, "fairly sure" ≥ 0.8, else "a first
guess"; "no clear lean yet" when nothing is named. Fewer than MIN_SWIPES swipes with attribute
outputs, or only likes / only nopes (nothing to contrast), give an empty vibe with a reason.
"""

import math
from dataclasses import dataclass

import numpy as np

ATTRIBUTES_KIND = "attributes"  # photos.models.PhotoPrediction.kind of the attribute model

MIN_SWIPES = 10  # swipes with attribute outputs before a vibe is estimated
LEAN_PROBABILITY = 0.9  # posterior probability of the direction needed to name a lean
TASTE_LEAN_PROBABILITY = 0.8  # the same once the person surely has a taste
TASTE_SCALE = 0.2  # τ from which a person counts as having a taste (10 points of like chance)
TASTE_PROBABILITY = 0.9  # P(τ ≥ TASTE_SCALE) needed for the lower bar
MIN_EFFECT = 0.05  # |change in the chance of a like| needed to name a lean (5 points)
MAX_LEANS = 4  # named per side
BIAS_PRECISION = 1e-2  # weak prior on the like-rate
# τ: prior sd of β (a ±1 answer per unit of probability); 0.05 is "no taste", 2 a full swing
SCALES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)
NOISES = (0.25, 0.5, 0.75, 1.0)  # σ² of a ±1 answer: at most 1 (a coin flip)

SURENESS_LABELS = ("very sure", "fairly sure", "a first guess", "no clear lean yet")
SURENESS_BOUNDS = (0.95, 0.8)  # of the Bonferroni bound, for the first two labels

REASON_NO_ATTRIBUTES = "No attribute model has described the photos yet."
REASON_FEW_SWIPES = "Swipe a few more photos."
REASON_ONE_SIDED = "Like some photos and nope some: a vibe needs both to compare."


@dataclass(frozen=True)
class Lean:
    attribute: str
    effect: float  # change in the chance of a like, -1..1, when a photo shows the attribute
    probability: float  # posterior probability that the effect has the stated sign


@dataclass(frozen=True)
class Effects:
    """The posterior over every attribute's effect (arrays over ``attributes``)."""

    attributes: tuple[str, ...]
    effect: np.ndarray  # posterior mean of β / 2
    effect_sd: np.ndarray  # posterior standard deviation of β / 2
    positive: np.ndarray  # P(effect > 0)
    weights: np.ndarray  # posterior weight of each (τ, σ²) on the grid, SCALES-major

    @property
    def taste(self) -> float:
        """P(τ ≥ TASTE_SCALE): the posterior probability that the person has a taste at all."""
        per_scale = self.weights.reshape(len(SCALES), -1).sum(axis=1)
        return float(per_scale[np.array(SCALES) >= TASTE_SCALE].sum())


@dataclass(frozen=True)
class Vibe:
    leans_to: tuple[Lean, ...]
    leans_away_from: tuple[Lean, ...]
    summary: str  # "waterfront, night; not fog"
    sureness: str  # one of SURENESS_LABELS
    swipes_used: int  # swipes whose photo the attribute model described
    reason: str = ""  # why the vibe is empty, when it is for lack of data

    @property
    def sure_at_least(self) -> float | None:
        """The Bonferroni bound behind ``sureness`` (None when nothing is named)."""
        named = self.leans_to + self.leans_away_from
        if not named:
            return None
        return max(0.0, 1.0 - sum(1.0 - lean.probability for lean in named))


def empty_vibe(*, reason: str, swipes_used: int = 0) -> Vibe:
    return Vibe((), (), "", SURENESS_LABELS[-1], swipes_used, reason)


def normal_cdf(values: np.ndarray) -> np.ndarray:
    return np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in np.ravel(values)]).reshape(
        np.shape(values)
    )


def attribute_effects(attributes, X, y) -> Effects:
    """The posterior of each attribute's effect from the swiped photos' attribute vectors
    ``X`` (n, A) and the answers ``y`` (n,) of ±1, averaged over the hyperparameter grid."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape != (len(y), len(attributes)):
        raise ValueError(f"X must be (swipes, attributes) = ({len(y)}, {len(attributes)}).")
    n, count = X.shape
    features = np.hstack([X - X.mean(axis=0), np.ones((n, 1))])
    gram, response, total = features.T @ features, features.T @ y, float(y @ y)
    evidence, means, sds = [], [], []
    for scale in SCALES:
        prior = np.append(np.full(count, scale**-2), BIAS_PRECISION)
        for noise in NOISES:
            precision = np.diag(prior) + gram / noise
            covariance = np.linalg.inv(precision)
            mean = covariance @ response / noise
            # the log evidence of y ~ N(0, noise·I + F Λ⁻¹ Fᵀ), from the sufficient statistics
            evidence.append(
                -0.5 * n * math.log(2 * math.pi * noise)
                + 0.5 * np.log(prior).sum()
                - 0.5 * np.linalg.slogdet(precision)[1]
                - 0.5 * (total - response @ mean) / noise
            )
            means.append(mean[:count])
            sds.append(np.sqrt(np.diag(covariance)[:count]))
    weights = np.exp(np.array(evidence) - max(evidence))
    weights /= weights.sum()
    means, sds = np.array(means), np.array(sds)
    mean = weights @ means
    sd = np.sqrt(np.maximum(weights @ (sds**2 + means**2) - mean**2, 0.0))
    positive = weights @ normal_cdf(means / sds)
    return Effects(tuple(attributes), mean / 2, sd / 2, positive, weights)


def vibe_estimate(*, attributes, X, y) -> Vibe:
    """The vibe of one person from their swipes (rows of ``X`` over ``attributes``, answers
    ``y`` of ±1); empty, with a reason, when there is too little to go on."""
    n = len(y)
    if not len(attributes):
        return empty_vibe(reason=REASON_NO_ATTRIBUTES, swipes_used=0)
    if n < MIN_SWIPES:
        return empty_vibe(reason=REASON_FEW_SWIPES, swipes_used=n)
    y = np.asarray(y, dtype=float)
    if np.all(y > 0) or np.all(y < 0):
        return empty_vibe(reason=REASON_ONE_SIDED, swipes_used=n)
    return vibe_from_effects(attribute_effects(attributes, X, y), swipes_used=n)


def vibe_from_effects(effects: Effects, *, swipes_used: int) -> Vibe:
    to, away = [], []
    tasteful = effects.weights.size == len(SCALES) * len(NOISES)
    tasteful = tasteful and effects.taste >= TASTE_PROBABILITY
    needed = TASTE_LEAN_PROBABILITY if tasteful else LEAN_PROBABILITY
    for i, attribute in enumerate(effects.attributes):
        effect, positive = float(effects.effect[i]), float(effects.positive[i])
        if positive >= needed and effect >= MIN_EFFECT:
            to.append(Lean(attribute, effect, positive))
        elif 1.0 - positive >= needed and effect <= -MIN_EFFECT:
            away.append(Lean(attribute, effect, 1.0 - positive))
    to = tuple(sorted(to, key=lambda lean: -lean.effect)[:MAX_LEANS])
    away = tuple(sorted(away, key=lambda lean: lean.effect)[:MAX_LEANS])
    vibe = Vibe(to, away, summary_text(to, away), SURENESS_LABELS[-1], swipes_used)
    return Vibe(to, away, vibe.summary, sureness_label(vibe.sure_at_least), swipes_used)


def summary_text(to, away) -> str:
    """ "waterfront, night; not fog", "not fog", or "No clear lean yet"."""
    parts = []
    if to:
        parts.append(", ".join(lean.attribute for lean in to))
    if away:
        parts.append("not " + ", ".join(lean.attribute for lean in away))
    return "; ".join(parts) if parts else "No clear lean yet"


def sureness_label(bound: float | None) -> str:
    if bound is None:
        return SURENESS_LABELS[-1]
    for label, threshold in zip(SURENESS_LABELS, SURENESS_BOUNDS, strict=False):
        if bound >= threshold:
            return label
    return SURENESS_LABELS[2]
