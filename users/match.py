"""What a person is shown for each city: a number that means what its label says, and how sure
it is. Plain NumPy, like users/rankers.py, so the evaluation harness checks the same numbers
(bench/evaluate_rankers.py measures their calibration).

- Bayesian rankers: the **chance** (0-1) that this person likes a typical photo of the city,
  from the posterior predictive of the linear-Gaussian preference model. A typical photo of city
  c is its prototype z_c = [m_c - μ, 1]; the latent like f = z_cᵀθ has posterior N(ŷ, v) with
  ŷ = z_cᵀθ̂ and v = z_cᵀA⁻¹z_c, an answer is y = f + ε with ε ~ N(0, σ²), and a like is y > 0,
  so P(like) = E[Φ(f/√σ²)] = Φ(ŷ / √(σ² + v)), shown with its 80 % credible interval
  Φ((ŷ ± 1.2816·√v)/√σ²). The **base chance** is the same for the average photo (x = μ): the
  person's like-rate as the model sees it. The **confidence** label comes from the variance of
  the city's own part of f, (m_c - μ)ᵀβ: the share of its prior standard deviation that the
  swipes have not yet explained (1 before any swipe; it shrinks as photos that inform the city
  are swiped, and stays high for a city whose photos the person has not judged).
- Baseline (the original add/subtract rule): no probability model, so no chance. Its **lean**
  maps the running score s monotonically to 1-99 with 50 for "no signal":
  round(50 + 49·tanh(s / LEAN_SCALE)). Only likes raise a score above 0, so without a like no
  city is above 50, and no city ever shows 100. Its confidence comes from the evidence: the
  probability mass of the city in every photo swiped (a confident photo of the city counts 1).
"""

import math
from dataclasses import dataclass

import numpy as np

from . import rankers

CREDIBLE_Z = 1.2816  # the 80 % central interval of a normal distribution
LEAN_SCALE = 2.0  # running score at which the lean reaches 50 + 49·tanh(1) ≈ 87
LEAN_NEUTRAL = 50

# Confidence labels, most certain first. Bayesian: by the share of the city score's prior
# standard deviation left (confident < 0.45 ≤ fairly sure < 0.65 ≤ taking shape < 0.85 ≤ early
# guess); on the demo catalog the median city reaches "taking shape" after about 40 swipes,
# "fairly sure" after about 100 and "confident" after about 300. Baseline: by the evidence
# (photo-equivalents of the city judged: confident ≥ 8 > fairly sure ≥ 3 > taking shape ≥ 1).
CONFIDENCE_LABELS = ("confident", "fairly sure", "taking shape", "early guess")
UNEXPLAINED_SHARES = (0.45, 0.65, 0.85)
EVIDENCE_MASSES = (8.0, 3.0, 1.0)

_erf = np.frompyfunc(math.erf, 1, 1)


def normal_cdf(values) -> np.ndarray:
    scaled = np.asarray(values, dtype=float) / math.sqrt(2)
    return 0.5 * (1 + np.asarray(_erf(scaled), dtype=float))


@dataclass(frozen=True)
class ChanceOutlook:
    """The Bayesian rankers' view of each city (arrays over the catalog's cities)."""

    chance: np.ndarray  # posterior predictive chance of liking a typical photo of the city
    low: np.ndarray  # 80 % credible interval of that chance
    high: np.ndarray
    base_chance: np.ndarray  # the same for the average photo: this person's like-rate
    likes: np.ndarray  # right swipes in the statistics
    unexplained: np.ndarray  # posterior / prior standard deviation of the city's own score

    def confidence(self) -> list[str]:
        return [confidence_from_unexplained(share) for share in self.unexplained]


def chance_outlook(space: rankers.RankingSpace, statistics: rankers.SwipeStatistics):
    """Chance, interval, base chance and unexplained share; leading axes of the statistics batch
    people (the evaluation harness), like rankers.posterior.

    With no like at all nothing has shown that any city is liked more than photos in general:
    the model's extrapolation to cities never disliked can still lean above the base chance
    (the nopes pull the like-rate down more than those cities' weights), so each city's chance
    and interval are capped at the base chance until the first like."""
    current = rankers.posterior(space, statistics)
    covariance = current.covariance()
    typical = space.features(space.prototypes)  # (d, D)
    mean = current.mean @ typical.T  # (..., d)
    variance = np.maximum(np.einsum("cd,...de,ce->...c", typical, covariance, typical), 0.0)
    noise = space.noise_variance
    chance = normal_cdf(mean / np.sqrt(noise + variance))
    spread = CREDIBLE_Z * np.sqrt(variance)
    low = normal_cdf((mean - spread) / math.sqrt(noise))
    high = normal_cdf((mean + spread) / math.sqrt(noise))
    bias_variance = np.maximum(covariance[..., -1, -1], 0.0)
    base = normal_cdf(current.mean[..., -1] / np.sqrt(noise + bias_variance))
    own = typical[:, :-1]  # m_c - μ: the city's own part, without the like-rate
    kernel = (1 - space.kernel_share) * np.eye(space.size) + space.kernel_share * space.similarity
    prior = np.einsum("cd,de,ce->c", own, kernel, own) / space.weight_precision
    posterior = np.einsum("cd,...de,ce->...c", own, covariance[..., :-1, :-1], own)
    unexplained = np.sqrt(np.maximum(posterior, 0.0) / np.maximum(prior, 1e-12))
    count = statistics.gram[..., -1, -1]
    likes = np.rint((count + statistics.moment[..., -1]) / 2).astype(int)  # Σy = likes - nopes
    capped = (likes == 0)[..., None]
    chance, low, high = (
        np.where(capped, np.minimum(values, base[..., None]), values)
        for values in (chance, low, high)
    )
    return ChanceOutlook(chance, low, high, base, likes, np.minimum(unexplained, 1.0))


def confidence_from_unexplained(share: float) -> str:
    for label, bound in zip(CONFIDENCE_LABELS, UNEXPLAINED_SHARES, strict=False):
        if share < bound:
            return label
    return CONFIDENCE_LABELS[-1]


def lean(scores: np.ndarray) -> np.ndarray:
    """The baseline's 1-99 lean of running scores (50: no signal either way)."""
    return np.rint(LEAN_NEUTRAL + 49 * np.tanh(np.asarray(scores) / LEAN_SCALE)).astype(int)


def confidence_from_evidence(mass: float) -> str:
    for label, bound in zip(CONFIDENCE_LABELS, EVIDENCE_MASSES, strict=False):
        if mass >= bound:
            return label
    return CONFIDENCE_LABELS[-1]
