"""The look-alike prior from pretrained embeddings (users/rankers.py): the cities' centred mean
photo embeddings, cosine similarity, and ranking_space taking a given similarity."""

import numpy as np
import pytest

from users import rankers


def _embeddings(seed=0, cities=5, per_city=8, size=32):
    """Photos scattered around a random centre per city; city 4 has no photos."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(cities, size))
    labels = np.repeat(np.arange(cities - 1), per_city)
    embeddings = centres[labels] + 0.3 * rng.normal(size=(len(labels), size))
    return embeddings, labels


def test_similarity_is_a_correlation_with_identity_rows_for_cities_without_photos():
    embeddings, labels = _embeddings()
    similarity = rankers.city_similarity_from_embeddings(embeddings, labels, 5)
    assert similarity.shape == (5, 5)
    np.testing.assert_allclose(np.diag(similarity), 1.0)
    np.testing.assert_allclose(similarity, similarity.T, atol=1e-12)
    assert similarity.min() >= -1.0 and similarity.max() <= 1.0
    np.testing.assert_array_equal(similarity[4], np.eye(5)[4])  # city 4: no photos
    np.testing.assert_array_equal(similarity[:, 4], np.eye(5)[4])
    known = similarity[:4, :4]
    assert np.abs(known - np.eye(4)).max() > 0.1  # the photo cities do resemble each other
    assert np.linalg.eigvalsh(similarity).min() > -1e-9  # a valid prior correlation


def test_cities_with_near_identical_mean_embeddings_are_look_alikes():
    embeddings, labels = _embeddings(seed=1)
    rng = np.random.default_rng(2)
    twin = embeddings[labels == 0] + 1e-3 * rng.normal(size=(8, embeddings.shape[1]))
    embeddings = np.vstack([embeddings, twin])
    labels = np.concatenate([labels, np.full(8, 4)])  # city 4: photos just like city 0's
    similarity = rankers.city_similarity_from_embeddings(embeddings, labels, 5)
    assert similarity[0, 4] > 0.999
    assert similarity[1:4, 4].max() < 0.9  # not alike everything


def test_centring_over_cities_removes_what_every_city_shares():
    # Pooled ReLU features are all positive: uncentred, every pair would look alike.
    embeddings, labels = _embeddings(seed=3)
    shifted = embeddings + 50.0
    similarity = rankers.city_similarity_from_embeddings(shifted, labels, 5)
    np.testing.assert_allclose(
        similarity, rankers.city_similarity_from_embeddings(embeddings, labels, 5), atol=1e-9
    )
    assert similarity[:4, :4][~np.eye(4, dtype=bool)].max() < 0.9


def test_photos_without_a_city_are_ignored():
    embeddings, labels = _embeddings(seed=4)
    with_strays = np.vstack([embeddings, np.full((3, embeddings.shape[1]), 9.0)])
    stray_labels = np.concatenate([labels, [-1, -1, -1]])
    np.testing.assert_allclose(
        rankers.city_similarity_from_embeddings(with_strays, stray_labels, 5),
        rankers.city_similarity_from_embeddings(embeddings, labels, 5),
    )


def _arrays(labels, cities=5, seed=5):
    return np.random.default_rng(seed).dirichlet(np.ones(cities) * 0.3, size=len(labels))


def test_ranking_space_uses_a_given_similarity_and_defaults_to_the_array_one():
    embeddings, labels = _embeddings(seed=6)
    arrays = _arrays(labels)
    given = rankers.city_similarity_from_embeddings(embeddings, labels, 5)
    default = rankers.ranking_space(arrays, labels)
    space = rankers.ranking_space(arrays, labels, similarity=given, kernel_share=0.4)
    np.testing.assert_array_equal(space.similarity, given)
    assert not np.allclose(default.similarity, given)
    kernel = 0.6 * np.eye(5) + 0.4 * given
    np.testing.assert_allclose(space.prior_precision[:5, :5], np.linalg.inv(kernel), atol=1e-9)
    # Only the prior changes: the mean array and the prototypes are still the arrays'.
    np.testing.assert_array_equal(space.mean_array, default.mean_array)
    np.testing.assert_array_equal(space.prototypes, default.prototypes)
    np.testing.assert_array_equal(
        rankers.ranking_space(arrays, labels, similarity=None).similarity, default.similarity
    )


def test_the_given_similarity_changes_the_scores_a_like_gives_look_alikes():
    # Cities 0 and 1 look alike in the embeddings; a like of a pure city-0 photo then lifts
    # city 1 above cities 2 and 3, which it does not under the identity similarity.
    embeddings, labels = _embeddings(seed=7)
    embeddings[labels == 1] = embeddings[labels == 0] + 1e-3
    arrays = np.eye(5)[labels] * 0.9 + 0.02
    lookalikes = rankers.city_similarity_from_embeddings(embeddings, labels, 5)
    statistics = rankers.SwipeStatistics.empty(5)
    statistics.add(arrays[labels == 0][0], 1.0)
    alike = rankers.bayesian_city_scores(
        rankers.ranking_space(arrays, labels, similarity=lookalikes), statistics
    )
    plain = rankers.bayesian_city_scores(
        rankers.ranking_space(arrays, labels, similarity=np.eye(5)), statistics
    )
    assert alike[1] > 0.2 * alike[0] > 0 > max(alike[2], alike[3])
    assert plain[1] < 0 and abs(plain[1] - plain[2]) < 1e-12


def test_ranking_space_refuses_a_similarity_of_the_wrong_size():
    _, labels = _embeddings()
    with pytest.raises(ValueError, match="5 x 5"):
        rankers.ranking_space(_arrays(labels), labels, similarity=np.eye(4))
