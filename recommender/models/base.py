"""What every model offers the evaluator and the ranker: fit on a count matrix, score users, recommend top-k.

A model is fitted on a user x item matrix of play counts (CSR). ``score`` returns a dense block of scores for
some users given their histories (rows of the same matrix); ``recommend`` turns scores into the top-k items
with the items a user already played removed, since recommending what someone already listens to teaches
nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

# Scoring every item for every user at once costs users x items floats; batches of users keep it small.
SCORE_BATCH = 512


def top_k(scores: NDArray[np.floating], k: int) -> NDArray[np.int64]:
    """Indices of the ``k`` highest scores of each row, best first (argpartition, then sort only those k)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1).astype(np.int64)


def exclude_seen(scores: NDArray[np.float32], history: sp.csr_matrix) -> NDArray[np.float32]:
    """Set the score of every item in ``history`` (one row per row of ``scores``) to -inf, in place."""
    rows, cols = history.nonzero()
    scores[rows, cols] = -np.inf
    return scores


class Recommender(ABC):
    """A fitted model ranks items for users; subclasses implement ``fit`` and ``score``."""

    name: str = "model"

    @abstractmethod
    def fit(self, counts: sp.csr_matrix) -> Self:
        """Learn from a user x item count matrix."""

    @abstractmethod
    def score(self, counts: sp.csr_matrix, users: NDArray[np.int64]) -> NDArray[np.float32]:
        """Scores (len(users) x items) for ``users``, whose histories are ``counts[users]``."""

    def recommend(self, counts: sp.csr_matrix, users: NDArray[np.int64], k: int = 10) -> NDArray[np.int64]:
        """Top-``k`` item indices per user, best first, never an item already in the user's history."""
        out = np.empty((len(users), min(k, counts.shape[1])), dtype=np.int64)
        for start in range(0, len(users), SCORE_BATCH):
            batch = users[start : start + SCORE_BATCH]
            scores = exclude_seen(self.score(counts, batch), counts[batch])
            out[start : start + len(batch)] = top_k(scores, k)
        return out


def binarise(counts: sp.csr_matrix) -> sp.csr_matrix:
    """1 where the user played the item at all: the 'preference' p_ui of Hu, Koren and Volinsky (2008)."""
    binary = counts.copy().astype(np.float32)
    binary.data[:] = 1.0
    return binary


def log_counts(counts: sp.csr_matrix) -> sp.csr_matrix:
    """log(1 + count): tames play counts that run from 1 to hundreds of thousands on Last.fm."""
    logged = counts.copy().astype(np.float32)
    logged.data = np.log1p(logged.data)
    return logged


def bm25_weight(counts: sp.csr_matrix, k1: float = 100.0, b: float = 0.8) -> sp.csr_matrix:
    """BM25 weights as in implicit's ``bm25_weight`` (items are documents, users are terms).

    idf down-weights heavy users (who co-occur with everything); the length norm, very popular items.
    """
    item_users = counts.T.tocoo().astype(np.float64)
    n_items = float(item_users.shape[0])
    idf = np.log(n_items) - np.log1p(np.bincount(item_users.col, minlength=item_users.shape[1]))
    row_sums = np.asarray(item_users.sum(axis=1)).ravel()
    length_norm = (1.0 - b) + b * row_sums / max(row_sums.mean(), 1e-12)
    weighted = item_users.data * (k1 + 1.0) / (k1 * length_norm[item_users.row] + item_users.data)
    item_users.data = weighted * idf[item_users.col]
    return sp.csr_matrix(item_users.T, dtype=np.float32)
