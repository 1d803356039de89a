"""Stage two: a learned ranker (LightGBM LambdaRank) orders the pooled candidates.

Burges, "From RankNet to LambdaRank to LambdaMART: An Overview" (MSR-TR-2010-82); Ke et al., "LightGBM: A
Highly Efficient Gradient Boosting Decision Tree" (NeurIPS 2017). LambdaMART fits trees to gradients that are
weighted by how much swapping two items would change NDCG, so it optimises the ranking metric we report, not a
proxy.

Leakage is the classic mistake here: the ranker must learn from data its generators did not train on. So the
training data is split again, *inside* the training part: the generators are fitted on the inner training
split, their candidates for each user are labelled with that user's inner held-out items, and the ranker
learns from those. At serving time the same features come from generators refitted on all training data; the
features are chosen (ranks, scores relative to the user's best) to mean the same thing after that refit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.models.base import Recommender
from recommender.models.candidates import Candidates, build_candidates, labels

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 100,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "lambdarank_truncation_level": 20,
    "deterministic": True,
    "verbosity": -1,
}
MAX_TREES = 500


class TwoStageRanker:
    """Pool candidates from fitted generators, then order them with gradient-boosted trees."""

    name = "ranked"

    def __init__(
        self,
        n_candidates: int = 200,
        params: Mapping[str, Any] | None = None,
        early_stopping_share: float = 0.2,
        seed: int = 0,
        num_threads: int = 0,
    ) -> None:
        self.n_candidates = n_candidates
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        self.early_stopping_share = early_stopping_share
        self.seed = seed
        self.num_threads = num_threads or os.cpu_count() or 1
        self.model: Any = None

    def fit(
        self, generators: Mapping[str, Recommender], train: sp.csr_matrix, held_out: sp.csr_matrix
    ) -> Self:
        """Learn from ``generators`` fitted on ``train``, labelled by ``held_out`` (the inner test part)."""
        import lightgbm  # noqa: PLC0415 - heavy import, only when training

        users = np.flatnonzero(np.diff(held_out.indptr) > 0).astype(np.int64)
        candidates = build_candidates(generators, train, users, self.n_candidates)
        y = labels(candidates, held_out)
        # users without a single relevant candidate give LambdaRank no gradient: leave them out
        positives = np.bincount(candidates.users, weights=y, minlength=train.shape[0])
        keep_users = np.flatnonzero(positives > 0)
        rng = np.random.default_rng(self.seed)
        stop_users = rng.choice(
            keep_users, size=int(len(keep_users) * self.early_stopping_share), replace=False
        )
        fit_rows = np.isin(candidates.users, keep_users) & ~np.isin(candidates.users, stop_users)
        stop_rows = np.isin(candidates.users, stop_users)
        fit_part, stop_part = _subset(candidates, fit_rows), _subset(candidates, stop_rows)
        fit_set = lightgbm.Dataset(
            fit_part.features, y[fit_rows], group=fit_part.group_sizes(), feature_name=list(candidates.names)
        )
        stop_set = lightgbm.Dataset(
            stop_part.features, y[stop_rows], group=stop_part.group_sizes(), reference=fit_set
        )
        self.model = lightgbm.train(
            {**self.params, "seed": self.seed, "num_threads": self.num_threads},
            fit_set,
            num_boost_round=MAX_TREES,
            valid_sets=[stop_set],
            callbacks=[lightgbm.early_stopping(30, verbose=False)],
        )
        return self

    def recommend(
        self,
        generators: Mapping[str, Recommender],
        counts: sp.csr_matrix,
        users: NDArray[np.int64],
        k: int = 10,
    ) -> NDArray[np.int64]:
        """Top-``k`` per user (in the order of ``users``) among the candidates, by the ranker's score."""
        candidates = build_candidates(generators, counts, users, self.n_candidates)
        scores = np.asarray(
            self.model.predict(candidates.features, num_iteration=self.model.best_iteration), dtype=np.float64
        )
        # sort by user, then by descending score; take each user's first k rows
        order = np.lexsort((-scores, candidates.users))
        ranked_users, ranked_items = candidates.users[order], candidates.items[order]
        starts = np.searchsorted(ranked_users, np.sort(users))
        picks = starts[:, None] + np.arange(k)[None, :]
        by_sorted_user = ranked_items[picks]
        out: NDArray[np.int64] = np.empty_like(by_sorted_user)
        out[np.argsort(users, kind="stable")] = by_sorted_user  # back to the caller's order of users
        return out

    def feature_importance(self) -> dict[str, float]:
        gains = self.model.feature_importance(importance_type="gain")
        return dict(zip(self.model.feature_name(), (float(g) for g in gains), strict=True))


def _subset(candidates: Candidates, rows: NDArray[np.bool_]) -> Candidates:
    return Candidates(
        candidates.users[rows], candidates.items[rows], candidates.features[rows], candidates.names
    )
