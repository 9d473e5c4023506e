"""City rankers and photo-queue policies: from a person's swipes to a score per city. Plain
NumPy, no Django, so the evaluation harness (bench/evaluate_rankers.py) and the app use the same
code.

A swipe is a photo's probability array x (one entry per city) and y = +1 (right) or -1 (left).

- ``BaselineRanker``: the original rule, score = Σ y·x = Xᵀy.
- ``BayesianRanker``: a Bayesian linear preference model. like(x) ≈ b + (x - μ)ᵀβ with a
  Gaussian prior β ~ N(0, I/λ) and a weak prior on the like-rate bias b; the posterior after n
  swipes has precision A = Λ + ZᵀZ / σ² (Z = the centred arrays with a constant column) and mean
  A⁻¹Zᵀy / σ². Centring removes the share every photo gives every city; dividing by ZᵀZ undoes
  "shown more often" and spreads a like over the cities the model confuses with each other
  (visually similar ones) instead of crediting only the top one. A city's score is the
  predicted like of a typical photo of it: (m_c - μ)ᵀβ̂, m_c = the mean array of its photos.
- ``active_choice``: the next photo: mostly the one whose like we are least sure of (largest
  posterior variance zᵀA⁻¹z), a share of likely likes (Thompson sampling: the best photo under a
  draw from the posterior) so swiping stays pleasant, and some uniform exploration for variety.
"""

from dataclasses import dataclass, field

import numpy as np


class BaselineRanker:
    name = "baseline"

    def __init__(self, city_count: int):
        self.scores = np.zeros(city_count)

    def update(self, x: np.ndarray, y: float) -> None:
        self.scores += y * x

    def city_scores(self) -> np.ndarray:
        return self.scores.copy()


@dataclass
class BayesianRanker:
    """Posterior over per-city preference weights; rank-1 updates, O(d²) per swipe."""

    mean_array: np.ndarray  # μ: the average photo array (d,)
    prototypes: np.ndarray  # m_c: mean array of each city's photos (cities x d)
    prior_precision: float = 1.0  # λ on β
    bias_precision: float = 1e-2  # weak prior on the like-rate bias
    noise_variance: float = 0.5  # σ² of the ±1 like signal
    # Optional prior correlation of the cities' weights (d x d, unit diagonal), e.g. from how
    # alike the CNN's pooled features of their photos are: a like then also lifts look-alikes.
    city_kernel: np.ndarray | None = None
    name: str = "bayes"
    covariance: np.ndarray = field(init=False)  # A⁻¹ (d+1, d+1), kept up to date
    moment: np.ndarray = field(init=False)  # Zᵀy / σ²

    def __post_init__(self):
        d = len(self.mean_array)
        self.covariance = np.zeros((d + 1, d + 1))
        kernel = np.eye(d) if self.city_kernel is None else self.city_kernel
        self.covariance[:d, :d] = kernel / self.prior_precision
        self.covariance[d, d] = 1 / self.bias_precision
        self.moment = np.zeros(d + 1)

    def features(self, x: np.ndarray) -> np.ndarray:
        """z = [x - μ, 1] for one array (d,) or a batch (n, d)."""
        centred = np.asarray(x, dtype=float) - self.mean_array
        ones = np.ones((*centred.shape[:-1], 1))
        return np.concatenate([centred, ones], axis=-1)

    def update(self, x: np.ndarray, y: float) -> None:
        z = self.features(x)
        shared = self.covariance @ z
        self.covariance -= np.outer(shared, shared) / (self.noise_variance + z @ shared)
        self.moment += y * z / self.noise_variance

    def weights(self) -> np.ndarray:
        """Posterior mean of [β, b] (the prior mean is 0, so A⁻¹Zᵀy/σ² holds with any prior
        covariance: the covariance kept here already includes it)."""
        return self.covariance @ self.moment

    def city_scores(self) -> np.ndarray:
        beta = self.weights()[:-1]
        return (self.prototypes - self.mean_array) @ beta

    def predicted_like(self, arrays: np.ndarray) -> np.ndarray:
        return self.features(arrays) @ self.weights()

    def uncertainty(self, arrays: np.ndarray) -> np.ndarray:
        z = self.features(arrays)
        return np.einsum("ij,jk,ik->i", z, self.covariance, z)


@dataclass(frozen=True)
class QueuePolicy:
    likely_like_share: float = 0.25  # Thompson-sampled "probably a like" cards
    exploration_share: float = 0.1  # uniformly random cards


def active_choice(
    ranker: BayesianRanker,
    arrays: np.ndarray,
    candidates: np.ndarray,
    rng: np.random.Generator,
    policy: QueuePolicy = QueuePolicy(),
) -> int:
    """Index (into ``arrays``) of the next photo to show, among ``candidates`` (indices)."""
    draw = rng.random()
    if draw < policy.exploration_share:
        return int(rng.choice(candidates))
    pool = arrays[candidates]
    if draw < policy.exploration_share + policy.likely_like_share:
        sample = rng.multivariate_normal(ranker.weights(), ranker.covariance, method="cholesky")
        return int(candidates[np.argmax(ranker.features(pool) @ sample)])
    return int(candidates[np.argmax(ranker.uncertainty(pool))])


def prototypes_from(arrays: np.ndarray, labels: np.ndarray, city_count: int) -> np.ndarray:
    """m_c: the mean array of the photos labelled c; a city without photos gets the unit
    vector (the model's own output for a perfect photo of it)."""
    result = np.eye(city_count, arrays.shape[1])
    for city in range(city_count):
        chosen = arrays[labels == city]
        if len(chosen):
            result[city] = chosen.mean(axis=0)
    return result


def city_kernel_from(features: np.ndarray, labels: np.ndarray, city_count: int, share=0.5):
    """Prior correlation between cities from photo representations (e.g. the CNN's pooled
    features): an RBF kernel on each city's mean feature vector (length scale: the median
    distance), mixed with the identity so a city's own evidence still dominates."""
    means = np.stack([features[labels == c].mean(axis=0) for c in range(city_count)])
    means /= np.linalg.norm(means, axis=1, keepdims=True) + 1e-12
    distances = np.linalg.norm(means[:, None] - means[None], axis=-1)
    scale = np.median(distances[np.triu_indices(city_count, 1)]) or 1.0
    similarity = np.exp(-(distances**2) / (2 * scale**2))
    return (1 - share) * np.eye(city_count) + share * similarity
