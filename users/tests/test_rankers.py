"""The rankers' maths against closed forms (users/rankers.py)."""

import numpy as np

from users.rankers import (
    BaselineRanker,
    BayesianRanker,
    QueuePolicy,
    active_choice,
    city_kernel_from,
    prototypes_from,
)


def _swipes(seed=0, count=30, cities=6):
    rng = np.random.default_rng(seed)
    arrays = rng.dirichlet(np.ones(cities) * 0.3, size=count)
    directions = rng.choice([-1.0, 1.0], size=count)
    return arrays, directions


def test_baseline_is_the_original_add_subtract_rule():
    arrays, directions = _swipes()
    ranker = BaselineRanker(6)
    for x, y in zip(arrays, directions, strict=True):
        ranker.update(x, y)
    np.testing.assert_allclose(ranker.city_scores(), arrays.T @ directions)


def test_bayesian_posterior_equals_the_closed_form():
    arrays, directions = _swipes(seed=1)
    mean = arrays.mean(axis=0)
    kernel = city_kernel_from(np.random.default_rng(2).normal(size=(30, 5)), np.arange(30) % 6, 6)
    ranker = BayesianRanker(
        mean_array=mean, prototypes=np.eye(6), prior_precision=2.0, noise_variance=0.5,
        city_kernel=kernel,
    )  # fmt: skip
    for x, y in zip(arrays, directions, strict=True):
        ranker.update(x, y)
    z = np.hstack([arrays - mean, np.ones((30, 1))])
    prior = np.zeros((7, 7))
    prior[:6, :6] = kernel / 2.0
    prior[6, 6] = 1 / ranker.bias_precision
    posterior = np.linalg.inv(np.linalg.inv(prior) + z.T @ z / 0.5)
    expected = posterior @ (z.T @ directions) / 0.5
    np.testing.assert_allclose(ranker.weights(), expected, atol=1e-8)
    np.testing.assert_allclose(ranker.covariance, posterior, atol=1e-8)
    np.testing.assert_allclose(ranker.city_scores(), (np.eye(6) - mean) @ expected[:6])


def test_active_choice_asks_about_the_least_known_photo_and_sometimes_a_likely_like():
    eye = np.eye(4)
    arrays = np.vstack([eye[0], eye[1], eye[3]])  # candidates: liked, disliked, unseen city
    ranker = BayesianRanker(mean_array=np.full(4, 0.25), prototypes=eye)
    for _ in range(5):
        ranker.update(eye[0], 1.0)
        ranker.update(eye[1], -1.0)
    rng = np.random.default_rng(0)
    candidates = np.arange(3)
    informative = QueuePolicy(likely_like_share=0.0, exploration_share=0.0)
    assert active_choice(ranker, arrays, candidates, rng, informative) == 2
    pleasant = QueuePolicy(likely_like_share=1.0, exploration_share=0.0)
    picks = np.array([active_choice(ranker, arrays, candidates, rng, pleasant) for _ in range(200)])
    assert np.mean(picks == 1) < 0.05  # a disliked city's photo is (almost) never the "like"
    assert np.mean(picks == 0) > 0.3


def test_city_kernel_is_a_correlation_that_favours_look_alikes_and_prototypes():
    features = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]] * 2)
    labels = np.array([0, 1, 2, 0, 1, 2])
    kernel = city_kernel_from(features, labels, 3)
    np.testing.assert_allclose(np.diag(kernel), 1.0)
    np.testing.assert_allclose(kernel, kernel.T)
    assert kernel[0, 1] > kernel[0, 2]
    assert np.all(np.linalg.eigvalsh(kernel) > 0)
    prototypes = prototypes_from(np.eye(3)[labels], labels, 4)
    np.testing.assert_allclose(prototypes[:, :3], np.eye(4, 3))
