"""City rankers and the active photo queue: from a person's swipes to a score per city. Plain
NumPy, no Django, so the evaluation harness (bench/evaluate_rankers.py) and the app run the same
code.

A swipe is a photo's probability array x (one entry per city) and y = +1 (right) or -1 (left).

- Baseline: the original rule, score = Σ y·x = Xᵀy (the running scores, ``Profile.city_scores``).
- Bayesian: a Bayesian linear preference model. like(x) ≈ b + (x - μ)ᵀβ, β ~ N(0, K/λ) with K
  the cities' look-alike correlation (``RankingSpace.similarity`` mixed with the identity, so a
  like also lifts look-alike cities while a city's own evidence still dominates), a weak prior on
  the like-rate bias b, and Gaussian noise σ² on the ±1 answers. Posterior precision
  A = Λ₀ + ZᵀZ/σ², mean A⁻¹Zᵀy/σ² (Z: the centred arrays with a constant column). Centring
  removes the share every photo gives every city; dividing by ZᵀZ undoes "shown more often" and
  spreads a like over the cities the CNN confuses with each other instead of crediting only the
  top one. A city's score is the predicted like of a typical photo of it, (m_c - μ)ᵀβ̂.
- Active queue (``photo_batch``): mostly the photo whose like we are least sure of (largest
  posterior variance zᵀA⁻¹z), a share of likely likes (Thompson sampling: the best photo under one
  draw from the posterior) so swiping stays pleasant, and some uniform exploration for variety.

A person's state is ``SwipeStatistics``: the uncentred sums Σ x̃x̃ᵀ and Σ y·x̃ (x̃ = [x, 1]). They
depend only on the swipes, not on the catalog, so new photos never invalidate them, undo is an
exact subtraction, and Σ y·x is the original running score itself.
"""

from dataclasses import dataclass, field

import numpy as np

BASELINE = "baseline"
BAYESIAN = "bayesian"
BAYESIAN_ACTIVE = "bayesian-active"


@dataclass(frozen=True)
class Ranker:
    """One way of ranking cities and choosing the next photos."""

    name: str
    bayesian: bool  # ranks by the Bayesian model, from the swipe statistics (RankerState)
    active_queue: bool  # picks the next photos with ``photo_batch``, not the fixed global queue


# The registry of rankers: the names settings.CITYVIBES["RANKER"] and Profile.ranker may take
# (checked by users.checks), in the order the evaluation reports them.
RANKERS: dict[str, Ranker] = {
    ranker.name: ranker
    for ranker in (
        Ranker(BASELINE, bayesian=False, active_queue=False),  # the original rule
        Ranker(BAYESIAN, bayesian=True, active_queue=False),
        Ranker(BAYESIAN_ACTIVE, bayesian=True, active_queue=True),
    )
}

# Tuned on the harness's tuning seed (bench/evaluate_rankers.py --seed 11), reported on others.
KERNEL_SHARE = 0.5  # weight of look-alike cities in the prior correlation of the city weights
WEIGHT_PRECISION = 1.0  # λ
BIAS_PRECISION = 1e-2  # weak prior on the like-rate bias
NOISE_VARIANCE = 0.5  # σ² of the ±1 answers
LOG_FLOOR = 1e-6  # probabilities below this count as this in the log-arrays


@dataclass(frozen=True)
class QueuePolicy:
    likely_like_share: float = 0.25  # Thompson-sampled "probably a like" cards
    exploration_share: float = 0.1  # uniformly random cards


@dataclass(frozen=True)
class RankingSpace:
    """What the Bayesian ranker needs to know about the catalog: the mean photo array μ, each
    city's prototype (mean array of its photos) and the look-alike similarity of the cities."""

    mean_array: np.ndarray  # (d,)
    prototypes: np.ndarray  # (d, d): row c = mean array of city c's photos
    similarity: np.ndarray  # (d, d): the cities' look-alike cosine similarity, in [-1, 1]
    kernel_share: float = KERNEL_SHARE
    weight_precision: float = WEIGHT_PRECISION
    bias_precision: float = BIAS_PRECISION
    noise_variance: float = NOISE_VARIANCE
    prior_precision: np.ndarray = field(init=False, repr=False)  # Λ₀ (D, D), D = d + 1

    def __post_init__(self):
        d = len(self.mean_array)
        kernel = (1 - self.kernel_share) * np.eye(d) + self.kernel_share * self.similarity
        prior_precision = np.zeros((d + 1, d + 1))
        prior_precision[:d, :d] = self.weight_precision * np.linalg.inv(kernel)
        prior_precision[d, d] = self.bias_precision
        object.__setattr__(self, "prior_precision", prior_precision)

    @property
    def size(self) -> int:
        return len(self.mean_array)

    def features(self, arrays: np.ndarray) -> np.ndarray:
        """z = [x - μ, 1] for one array (d,) or a batch (n, d)."""
        centred = np.asarray(arrays, dtype=float) - self.mean_array
        return np.concatenate([centred, np.ones((*centred.shape[:-1], 1))], axis=-1)


def ranking_space(
    arrays: np.ndarray, labels: np.ndarray, similarity: np.ndarray | None = None, **options
) -> RankingSpace:
    """The space from the catalog's photo arrays (n, d) and each photo's city index (labels,
    -1 for a photo without a city). A city without photos gets the unit vector as prototype (the
    CNN's output for a perfect photo of it) and no look-alikes. ``similarity`` (d, d) replaces
    the default look-alikes (``city_similarity`` of the mean log-arrays), e.g. the one from
    pretrained embeddings (``city_similarity_from_embeddings``)."""
    arrays = np.asarray(arrays, dtype=float)
    d = arrays.shape[1]
    prototypes = np.eye(d)
    log_means = np.zeros((d, d))
    has_photos = np.zeros(d, dtype=bool)
    logs = np.log(np.maximum(arrays, LOG_FLOOR))
    for city in range(d):
        chosen = labels == city
        if chosen.any():
            prototypes[city] = arrays[chosen].mean(axis=0)
            log_means[city] = logs[chosen].mean(axis=0)
            has_photos[city] = True
    if similarity is None:
        similarity = city_similarity(log_means, has_photos)
    elif np.shape(similarity) != (d, d):
        raise ValueError(f"similarity must be {d} x {d}, one row per city.")
    return RankingSpace(
        mean_array=arrays.mean(axis=0) if len(arrays) else np.full(d, 1 / max(d, 1)),
        prototypes=prototypes,
        similarity=np.asarray(similarity, dtype=float),
        **options,
    )


def city_similarity(means: np.ndarray, has_photos: np.ndarray) -> np.ndarray:
    """Cosine similarity of the cities' centred mean vectors (rows of ``means``, (d, k)): by
    default their mean log-probability arrays, so two cities are alike when the CNN hesitates
    between the same cities on their photos. Positive semi-definite with a unit diagonal, so it
    is a valid prior correlation; a city without photos only resembles itself."""
    d = len(means)
    similarity = np.eye(d)
    known = np.flatnonzero(has_photos)
    if len(known) > 1:
        centred = means[known] - means[known].mean(axis=0)
        centred /= np.linalg.norm(centred, axis=1, keepdims=True) + 1e-12
        similarity[np.ix_(known, known)] = np.clip(centred @ centred.T, -1.0, 1.0)
        np.fill_diagonal(similarity, 1.0)
    return similarity


def city_similarity_from_embeddings(
    embeddings: np.ndarray, labels: np.ndarray, city_count: int
) -> np.ndarray:
    """Look-alikes from pretrained embeddings: the cosine similarity of the cities' centred mean
    photo embeddings (n, k), e.g. the CNN's pooled penultimate features (1280-d for
    EfficientNet-Lite0). labels: each photo's city index, -1 for none."""
    embeddings = np.asarray(embeddings, dtype=float)
    means = np.zeros((city_count, embeddings.shape[1]))
    has_photos = np.zeros(city_count, dtype=bool)
    for city in range(city_count):
        chosen = labels == city
        if chosen.any():
            means[city] = embeddings[chosen].mean(axis=0)
            has_photos[city] = True
    return city_similarity(means, has_photos)


@dataclass
class SwipeStatistics:
    """Σ x̃x̃ᵀ and Σ y·x̃ over a person's swipes (x̃ = [x, 1]); leading axes batch people."""

    gram: np.ndarray  # (..., D, D)
    moment: np.ndarray  # (..., D)

    @classmethod
    def empty(cls, size: int, batch: tuple[int, ...] = ()) -> "SwipeStatistics":
        return cls(np.zeros((*batch, size + 1, size + 1)), np.zeros((*batch, size + 1)))

    def add(self, arrays: np.ndarray, signs) -> None:
        """Add swipes: arrays (..., d) and signs (...) of +1 (right) or -1 (left)."""
        augmented = np.concatenate([arrays, np.ones((*np.shape(arrays)[:-1], 1))], axis=-1)
        self.gram += augmented[..., :, None] * augmented[..., None, :]
        self.moment += np.asarray(signs, dtype=float)[..., None] * augmented

    def remove(self, array: np.ndarray, sign: float) -> None:
        """Take one swipe back out (undo): exact, since the sums are plain sums."""
        augmented = np.append(array, 1.0)
        self.gram -= np.outer(augmented, augmented)
        self.moment -= sign * augmented

    def to_bytes(self) -> bytes:
        """Upper triangle of the Gram matrix, then the moment, as float64."""
        rows, cols = np.triu_indices(self.gram.shape[-1])
        return np.concatenate([self.gram[rows, cols], self.moment]).astype("<f8").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, size: int) -> "SwipeStatistics":
        values = np.frombuffer(data, dtype="<f8")
        rows, cols = np.triu_indices(size + 1)
        if len(values) != len(rows) + size + 1:
            raise ValueError("Stored ranker statistics do not match the number of cities.")
        gram = np.zeros((size + 1, size + 1))
        gram[rows, cols] = values[: len(rows)]
        gram[cols, rows] = values[: len(rows)]
        return cls(gram, values[len(rows) :].copy())


@dataclass(frozen=True)
class Posterior:
    mean: np.ndarray  # (..., D): [β, b]
    precision: np.ndarray  # (..., D, D)

    def covariance(self) -> np.ndarray:
        return np.linalg.inv(self.precision)


def centred(space: RankingSpace, statistics: SwipeStatistics) -> tuple[np.ndarray, np.ndarray]:
    """ZᵀZ and Zᵀy for z = [x - μ, 1], from the uncentred sums in O(d²):
    Σ(x-μ)(x-μ)ᵀ = S - μsᵀ - sμᵀ + nμμᵀ and Σ(x-μ) = s - nμ, with S = Σxxᵀ, s = Σx, n = count."""
    mu, d = space.mean_array, space.size
    gram = statistics.gram.copy()
    sums, count = gram[..., :d, d], gram[..., d, d]
    gram[..., :d, :d] += (
        -mu[:, None] * sums[..., None, :]
        - sums[..., :, None] * mu[None, :]
        + count[..., None, None] * np.outer(mu, mu)
    )
    gram[..., :d, d] = gram[..., d, :d] = sums - count[..., None] * mu
    moment = statistics.moment.copy()
    moment[..., :d] -= moment[..., d, None] * mu
    return gram, moment


def posterior(space: RankingSpace, statistics: SwipeStatistics) -> Posterior:
    """The posterior after the swipes: A = Λ₀ + ZᵀZ/σ², mean = A⁻¹Zᵀy/σ²."""
    gram, moment = centred(space, statistics)
    precision = space.prior_precision + gram / space.noise_variance
    mean = np.linalg.solve(precision, moment[..., None] / space.noise_variance)[..., 0]
    return Posterior(mean, precision)


def bayesian_city_scores(space: RankingSpace, statistics: SwipeStatistics) -> np.ndarray:
    """(..., d): each city's predicted like for a typical photo of it, relative to the average."""
    beta = posterior(space, statistics).mean[..., :-1]
    return beta @ (space.prototypes - space.mean_array).T


def photo_batch(
    space: RankingSpace,
    statistics: SwipeStatistics,
    arrays: np.ndarray,
    count: int,
    rng: np.random.Generator,
    policy: QueuePolicy = QueuePolicy(),
) -> list[int]:
    """Indices (into ``arrays``, the candidate photos) of the next ``count`` photos to show.

    Each slot is a random candidate (exploration share), the best candidate under one posterior
    draw (likely-like share) or the candidate with the largest posterior variance. The variance
    does not depend on the answers, so after each pick the batch pretends that photo was
    answered (a rank-1 update of the covariance) and the next informative pick asks about
    something else."""
    count = min(count, len(arrays))
    if count <= 0:
        return []
    # The posterior as in ``posterior``, its mean from the covariance this needs anyway (one
    # inversion instead of a solve and an inversion).
    gram, moment = centred(space, statistics)
    covariance = np.linalg.inv(space.prior_precision + gram / space.noise_variance)
    mean = covariance @ moment / space.noise_variance
    features = space.features(arrays)
    shared = features @ covariance  # row i: (A⁻¹ z_i)ᵀ
    variance = np.einsum("nd,nd->n", shared, features)
    cholesky = np.linalg.cholesky(covariance)
    available = np.ones(len(arrays), dtype=bool)
    chosen: list[int] = []
    # After picks p_1..p_k the covariance is A⁻¹ minus one rank-1 term per pick, so
    # z_iᵀ A_k⁻¹ z_p = z_iᵀ A⁻¹ z_p - Σ_j overlap_j[i] · overlap_j[p] / gain_j: a few vector
    # operations per pick instead of rewriting the (candidates x D) matrix.
    overlaps: list[np.ndarray] = []
    gains: list[float] = []
    for _ in range(count):
        draw = rng.random()
        if draw < policy.exploration_share:
            pick = int(rng.choice(np.flatnonzero(available)))
        elif draw < policy.exploration_share + policy.likely_like_share:
            sample = mean + cholesky @ rng.standard_normal(len(mean))
            pick = int(np.argmax(np.where(available, features @ sample, -np.inf)))
        else:
            pick = int(np.argmax(np.where(available, variance, -np.inf)))
        chosen.append(pick)
        available[pick] = False
        gain = space.noise_variance + variance[pick]
        overlap = features @ shared[pick]  # z_iᵀ A⁻¹ z_pick
        for earlier, earlier_gain in zip(overlaps, gains, strict=True):
            overlap -= earlier * (earlier[pick] / earlier_gain)
        variance = variance - overlap**2 / gain
        overlaps.append(overlap)
        gains.append(gain)
    return chosen
