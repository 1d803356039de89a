"""Stage one of two: pool each generator's top candidates and describe every (user, candidate) with features.

Production recommenders (Covington, Adams, Sargin, "Deep Neural Networks for YouTube Recommendations", RecSys
2016) first retrieve a few hundred candidates per user from cheap generators, then let a ranker that sees many
signals order them. The features here are the ones every generator already has: its score (raw and divided by
the user's best score, so it survives retraining on more data), its rank, plus the item's popularity and the
user's activity -- enough for gradient-boosted trees to learn *when* to trust which generator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.models.base import SCORE_BATCH, Recommender, exclude_seen, top_k


@dataclass(frozen=True)
class Candidates:
    """Rows of (user, item) pairs grouped by user (users ascending), with one feature row each."""

    users: NDArray[np.int64]
    items: NDArray[np.int64]
    features: NDArray[np.float32]
    names: tuple[str, ...]

    def group_sizes(self) -> NDArray[np.int64]:
        """Consecutive rows per user, as learning-to-rank libraries want their query groups."""
        _, sizes = np.unique(self.users, return_counts=True)
        return sizes.astype(np.int64)


def feature_names(generators: Mapping[str, Recommender]) -> tuple[str, ...]:
    per_generator = [f"{name}_{kind}" for name in generators for kind in ("score", "relative", "rank")]
    return (*per_generator, "item_log_listeners", "user_log_items", "user_log_plays")


def _batch(
    generators: Mapping[str, Recommender],
    counts: sp.csr_matrix,
    users: NDArray[np.int64],
    n_candidates: int,
    listeners: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
    history = counts[users]
    scores: list[NDArray[np.float32]] = []
    ranks: list[NDArray[np.float32]] = []
    pool = np.zeros((len(users), counts.shape[1]), dtype=bool)
    rows = np.arange(len(users))[:, None]
    for model in generators.values():
        s = exclude_seen(model.score(counts, users), history)
        best = top_k(s, n_candidates)
        pool[rows, best] = True
        rank = np.full(s.shape, float(n_candidates), dtype=np.float32)  # "not in this generator's top n"
        rank[rows, best] = np.arange(best.shape[1], dtype=np.float32)[None, :]
        scores.append(s)
        ranks.append(rank)
    pool[history.nonzero()] = (
        False  # a generator with fewer than n unseen items could have proposed seen ones
    )
    r, items = np.nonzero(pool)
    columns: list[NDArray[np.float32]] = []
    for s, rank in zip(scores, ranks, strict=True):
        value = s[r, items]
        top = s.max(axis=1)  # the user's best unseen score
        value = np.where(np.isfinite(value), value, np.nan)  # -inf: the generator cannot score this item
        scale = np.where(np.isfinite(top) & (np.abs(top) > 0), np.abs(top), 1.0)[r]
        columns.extend([value, (value / scale).astype(np.float32), rank[r, items]])
    n_items_user = np.diff(history.indptr).astype(np.float64)
    plays = np.asarray(history.sum(axis=1)).ravel()
    columns.extend([np.log1p(listeners[items]), np.log1p(n_items_user[r]), np.log1p(plays[r])])
    return users[r], items.astype(np.int64), np.column_stack(columns).astype(np.float32)


def build_candidates(
    generators: Mapping[str, Recommender],
    counts: sp.csr_matrix,
    users: NDArray[np.int64],
    n_candidates: int = 200,
) -> Candidates:
    """The union of every generator's top ``n_candidates`` unseen items for each user, with features."""
    listeners = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    parts = [
        _batch(generators, counts, np.sort(users)[start : start + SCORE_BATCH], n_candidates, listeners)
        for start in range(0, len(users), SCORE_BATCH)
    ]
    return Candidates(
        users=np.concatenate([p[0] for p in parts]),
        items=np.concatenate([p[1] for p in parts]),
        features=np.concatenate([p[2] for p in parts]),
        names=feature_names(generators),
    )


def labels(candidates: Candidates, relevant: sp.csr_matrix) -> NDArray[np.float32]:
    """1 where the candidate is among the user's hidden items (rows of ``relevant`` are full-matrix users)."""
    values = relevant[candidates.users, candidates.items]
    dense = values.toarray() if sp.issparse(values) else np.asarray(values)
    return (dense.ravel() > 0).astype(np.float32)
