"""The two-stage ranker learns to combine its generators: with a planted signal it beats each of them."""

from __future__ import annotations

from typing import Self

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.metrics import evaluate_lists
from recommender.models.base import Recommender
from recommender.models.candidates import build_candidates, labels
from recommender.models.ranker import TwoStageRanker

pytestmark = pytest.mark.unit

USERS, ITEMS = 400, 200


class NoisyOracle(Recommender):
    """Scores = 1 for each user's planted relevant items, 0 otherwise, plus its own fixed Gaussian noise."""

    def __init__(self, relevant: NDArray[np.bool_], noise: float, seed: int) -> None:
        self.scores = (relevant + noise * np.random.default_rng(seed).standard_normal(relevant.shape)).astype(
            np.float32
        )

    def fit(self, counts: sp.csr_matrix) -> Self:
        del counts  # the scores are planted, nothing to learn
        return self

    def score(self, counts: sp.csr_matrix, users: NDArray[np.int64]) -> NDArray[np.float32]:
        del counts
        return self.scores[users].copy()


def _world() -> tuple[sp.csr_matrix, NDArray[np.bool_]]:
    rng = np.random.default_rng(0)
    relevant = np.zeros((USERS, ITEMS), dtype=bool)
    history = np.zeros((USERS, ITEMS), dtype=np.float32)
    for user in range(USERS):
        picks = rng.choice(ITEMS, size=20, replace=False)
        relevant[user, picks[:12]] = True  # what the user will like
        history[user, picks[12:]] = 1.0  # what they already played (never recommended)
    return sp.csr_matrix(history), relevant


def test_candidates_are_each_generators_top_n_unseen_items_with_features() -> None:
    history, relevant = _world()
    generators = {"a": NoisyOracle(relevant, 0.8, 1), "b": NoisyOracle(relevant, 0.8, 2)}
    candidates = build_candidates(generators, history, np.arange(10), n_candidates=15)
    assert candidates.features.shape == (len(candidates.users), len(candidates.names))
    assert not np.any(history[candidates.users, candidates.items])  # played items never become candidates
    sizes = candidates.group_sizes()
    assert np.all((sizes >= 15) & (sizes <= 30))
    assert labels(candidates, sp.csr_matrix(relevant)).sum() > 0


def test_the_ranker_beats_each_of_its_generators_on_a_planted_signal() -> None:
    """Two independently noisy views of the same truth: the learned combination ranks better than either."""
    history, relevant = _world()
    generators = {"a": NoisyOracle(relevant, 0.9, 1), "b": NoisyOracle(relevant, 0.9, 2)}
    train_users, test_users = np.arange(0, 200), np.arange(200, 400)
    mask = np.zeros(USERS, dtype=bool)
    mask[train_users] = True
    held_out = sp.csr_matrix(relevant & mask[:, None])
    ranker = TwoStageRanker(n_candidates=40, seed=0, num_threads=1).fit(generators, history, held_out)
    truth = sp.csr_matrix(relevant[test_users])
    ranked = evaluate_lists(ranker.recommend(generators, history, test_users), truth, ITEMS)["ndcg@10"]
    single = [
        evaluate_lists(g.recommend(history, test_users), truth, ITEMS)["ndcg@10"] for g in generators.values()
    ]
    assert ranked > max(single) + 0.03


def test_recommend_returns_lists_in_the_callers_user_order() -> None:
    history, relevant = _world()
    generators = {"a": NoisyOracle(relevant, 0.5, 1)}
    ranker = TwoStageRanker(n_candidates=20, seed=0, num_threads=1).fit(
        generators, history, sp.csr_matrix(relevant)
    )
    users = np.array([7, 3, 5])
    together = ranker.recommend(generators, history, users)
    alone = np.vstack([ranker.recommend(generators, history, np.array([u])) for u in users])
    assert np.array_equal(together, alone)
