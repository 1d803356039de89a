"""Per-user random hold-out: the offline protocol of Microsoft's ``recommenders`` (python_random_split per
user).

For every user with at least ``min_interactions`` items, a random ``test_share`` of their items (at least one)
is hidden; the model trains on the rest and is scored on how many hidden items it puts in its top k. Users
below the threshold stay entirely in training (they still teach the model) but are not evaluated: with two
items the metric is mostly noise. Seeded, so every model sees exactly the same split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray


@dataclass(frozen=True)
class Split:
    train: sp.csr_matrix
    test: sp.csr_matrix
    users: NDArray[np.int64]  # the evaluated users: those with at least one hidden item


def holdout_split(
    counts: sp.csr_matrix, test_share: float = 0.2, min_interactions: int = 5, seed: int = 0
) -> Split:
    """Split ``counts`` into train and test matrices of the same shape, per user, at random."""
    counts = counts.tocsr()
    counts.sort_indices()
    per_row = np.diff(counts.indptr)
    rows = np.repeat(np.arange(counts.shape[0]), per_row)
    keys = np.random.default_rng(seed).random(counts.nnz)
    order = np.lexsort((keys, rows))  # a random order of each user's items, users kept together
    rank = np.empty(counts.nnz, dtype=np.int64)
    rank[order] = np.arange(counts.nnz) - counts.indptr[rows[order]]
    n_test = np.where(per_row >= min_interactions, np.maximum(1, np.round(per_row * test_share)), 0)
    held = rank < n_test[rows]
    coo = counts.tocoo()
    # tocoo of a canonical CSR lists entries in the same order as rows/indices above
    train = sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=counts.shape)
    test = sp.csr_matrix((coo.data[held], (coo.row[held], coo.col[held])), shape=counts.shape)
    users = np.flatnonzero(np.diff(test.indptr) > 0).astype(np.int64)
    return Split(train=train.astype(np.float32), test=test.astype(np.float32), users=users)
