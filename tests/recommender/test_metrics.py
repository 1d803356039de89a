"""Each metric matches a hand-computed toy example."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.metrics import coverage, evaluate_lists, per_user

pytestmark = pytest.mark.unit

# user 0: recommended [1, 2, 3], relevant {1, 3}: hits at ranks 1 and 3
# user 1: recommended [4, 5, 6], relevant {7}:   no hit
RECOMMENDED = np.array([[1, 2, 3], [4, 5, 6]])
RELEVANT = sp.csr_matrix(([1.0, 1.0, 1.0], ([0, 0, 1], [1, 3, 7])), shape=(2, 10))


def test_precision_counts_hits_over_k() -> None:
    assert per_user(RECOMMENDED, RELEVANT, 3)["precision"].tolist() == pytest.approx([2 / 3, 0.0])


def test_recall_counts_hits_over_the_relevant_items() -> None:
    assert per_user(RECOMMENDED, RELEVANT, 3)["recall"].tolist() == pytest.approx([1.0, 0.0])


def test_ndcg_discounts_by_log_rank_and_normalises_by_the_ideal_list() -> None:
    dcg = 1 / math.log2(2) + 1 / math.log2(4)  # hits at ranks 1 and 3
    ideal = 1 / math.log2(2) + 1 / math.log2(3)  # two relevant items on top
    assert per_user(RECOMMENDED, RELEVANT, 3)["ndcg"].tolist() == pytest.approx([dcg / ideal, 0.0])


def test_map_averages_precision_at_each_hit() -> None:
    ap = (1 / 1 + 2 / 3) / 2  # precision@1 = 1, precision@3 = 2/3, over min(|T|, k) = 2
    assert per_user(RECOMMENDED, RELEVANT, 3)["map"].tolist() == pytest.approx([ap, 0.0])


def test_hit_rate_is_the_share_of_users_with_any_hit() -> None:
    assert evaluate_lists(RECOMMENDED, RELEVANT, 10, k=3)["hit_rate@3"] == pytest.approx(0.5)


def test_coverage_is_the_share_of_the_catalogue_recommended_to_anyone() -> None:
    assert coverage(RECOMMENDED, 10) == pytest.approx(0.6)
    assert evaluate_lists(RECOMMENDED, RELEVANT, 10, k=3)["coverage"] == pytest.approx(0.6)


def test_means_are_over_users() -> None:
    result = evaluate_lists(RECOMMENDED, RELEVANT, 10, k=3)
    assert result["precision@3"] == pytest.approx(1 / 3)
    assert result["recall@3"] == pytest.approx(0.5)


def test_a_user_without_relevant_items_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one relevant"):
        per_user(RECOMMENDED, sp.csr_matrix((2, 10)), 3)
