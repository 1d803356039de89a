"""Popularity, item-kNN (cosine and BM25) and EASE (Steck 2019) on toy matrices."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.models.ease import EASE, ease_weights
from recommender.models.item_knn import ItemKNN, keep_top_per_row
from recommender.models.popularity import Popularity

pytestmark = pytest.mark.unit

TOY = sp.csr_matrix(
    np.array(
        [[3, 1, 0, 0, 2], [0, 2, 5, 0, 0], [1, 0, 1, 4, 0], [0, 0, 2, 1, 1], [2, 2, 0, 0, 1]],
        dtype=np.float32,
    )
)


def test_popularity_ranks_items_by_distinct_listeners_and_skips_played_ones() -> None:
    model = Popularity().fit(TOY)
    assert model.listeners.tolist() == [3, 3, 3, 2, 3]
    recommended = model.recommend(TOY, np.array([1]), k=2)[0]
    assert set(recommended.tolist()) <= {0, 3, 4}
    assert 3 not in recommended  # fewer listeners than the other unplayed items


def test_cosine_item_knn_similarity_is_the_cosine_of_listener_sets() -> None:
    model = ItemKNN(neighbours=10).fit(TOY)
    binary = (TOY.toarray() > 0).astype(float)
    norms = np.linalg.norm(binary, axis=0)
    expected = binary.T @ binary / np.outer(norms, norms)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.similarity.toarray(), expected, rtol=1e-6)


def test_item_knn_scores_sum_similarities_to_the_played_items() -> None:
    model = ItemKNN(neighbours=10).fit(TOY)
    sim = model.similarity.toarray()
    assert model.score(TOY, np.array([0]))[0] == pytest.approx(sim[[0, 1, 4]].sum(axis=0))


def test_neighbour_lists_keep_only_the_largest_entries_per_row() -> None:
    matrix = sp.csr_matrix(np.array([[0.1, 0.9, 0.5, 0.3], [0.0, 0.2, 0.0, 0.7]], dtype=np.float32))
    kept = keep_top_per_row(matrix, 2).toarray()
    np.testing.assert_allclose(kept, [[0, 0.9, 0.5, 0], [0, 0.2, 0, 0.7]])


def test_bm25_variant_fits_and_ranks_unplayed_items() -> None:
    model = ItemKNN(neighbours=10, similarity="bm25").fit(TOY)
    assert model.name == "item_knn_bm25"
    recommended = model.recommend(TOY, np.arange(5), k=2)
    assert not np.any(TOY.toarray()[np.arange(5)[:, None], recommended] > 0)


def test_ease_closed_form_satisfies_the_constrained_optimality_conditions() -> None:
    """Minimising |X - XB|^2 + lambda|B|^2 with diag(B) = 0: (G + lambda I) B - G is diagonal (Lagrange)."""
    x = np.log1p(TOY.toarray()).astype(np.float64)
    gram = x.T @ x
    b = ease_weights(gram, 2.0)
    assert np.allclose(np.diag(b), 0.0)
    residual = (gram + 2.0 * np.eye(5)) @ b - gram
    off_diagonal = residual - np.diag(np.diag(residual))
    assert np.abs(off_diagonal).max() < 1e-9


def test_ease_matches_the_textbook_formula_and_scores_with_log_counts() -> None:
    model = EASE(regularization=2.0, min_users=1).fit(TOY)
    x = np.log1p(TOY.toarray()).astype(np.float64)
    p = np.linalg.inv(x.T @ x + 2.0 * np.eye(5))
    b = np.eye(5) - p / np.diag(p)[None, :]
    np.testing.assert_allclose(model.weights, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.score(TOY, np.array([2]))[0], x[2] @ b, rtol=1e-4, atol=1e-5)


def test_ease_leaves_out_items_with_too_few_listeners() -> None:
    model = EASE(regularization=2.0, min_users=3).fit(TOY)
    assert model.items.tolist() == [0, 1, 2, 4]
    assert model.score(TOY, np.array([0]))[0, 3] == -np.inf
