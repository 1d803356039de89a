"""The diversity re-rank keeps score order, caps each cluster, and back-fills when tastes run out."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.models.diversity import cap_per_cluster, item_clusters

pytestmark = pytest.mark.unit


def test_the_cap_skips_items_of_a_full_cluster_in_score_order() -> None:
    clusters = np.array([0, 0, 0, 1, 1, 2])
    ranked = np.array([0, 1, 2, 3, 4, 5])
    assert cap_per_cluster(ranked, clusters, k=4, max_per_cluster=2).tolist() == [0, 1, 3, 4]


def test_the_list_is_back_filled_by_score_when_too_few_clusters_remain() -> None:
    clusters = np.array([0, 0, 0, 0])
    assert cap_per_cluster(np.array([3, 2, 1, 0]), clusters, k=3, max_per_cluster=1).tolist() == [3, 2, 1]


def test_spherical_k_means_separates_planted_directions() -> None:
    rng = np.random.default_rng(0)
    directions = np.eye(4, dtype=np.float32) * 3
    truth = rng.integers(0, 4, 200)
    factors = directions[truth] + 0.2 * rng.standard_normal((200, 4)).astype(np.float32)
    labels = item_clusters(factors, n_clusters=4, seed=1)
    # every found cluster is pure: one planted direction per label
    assert all(len(set(truth[labels == c].tolist())) == 1 for c in set(labels.tolist()))
