"""Top-k ranking metrics with binary relevance (an item is relevant if it is in the user's hidden set T).

For a list of k recommendations with hit indicators h_1..h_k:
- precision@k = sum(h) / k
- recall@k    = sum(h) / |T|
- NDCG@k      = sum_r h_r / log2(r + 1)  divided by the same sum for an ideal list (min(|T|, k) hits on top)
  (Järvelin and Kekäläinen, "Cumulated gain-based evaluation of IR techniques", TOIS 2002)
- MAP@k       = mean over users of AP@k = sum_r h_r * precision@r / min(|T|, k)
- hit-rate@k  = share of users with at least one hit
- coverage    = distinct items recommended to anyone / items in the catalogue (does it only push hits?)
Every value is the mean over evaluated users; the per-user arrays are kept for the std across users if needed.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

METRICS = ("ndcg", "precision", "recall", "map", "hit_rate")


def hits_matrix(recommended: NDArray[np.int64], relevant: sp.csr_matrix) -> NDArray[np.bool_]:
    """h[u, r] = True when the r-th recommendation of row u is in row u of ``relevant``."""
    rows = np.repeat(np.arange(recommended.shape[0]), recommended.shape[1])
    values = relevant[rows, recommended.ravel()]
    dense: NDArray[np.float64] = values.toarray() if sp.issparse(values) else np.asarray(values)
    return np.asarray(dense.reshape(recommended.shape) != 0, dtype=np.bool_)


def per_user(
    recommended: NDArray[np.int64], relevant: sp.csr_matrix, k: int
) -> dict[str, NDArray[np.float64]]:
    """Each metric for each row (user); ``relevant`` has one row per row of ``recommended``."""
    recommended = recommended[:, :k]
    hits = hits_matrix(recommended, relevant).astype(np.float64)
    n_relevant = np.diff(relevant.indptr).astype(np.float64)
    if np.any(n_relevant == 0):
        raise ValueError("every evaluated user needs at least one relevant item")
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)[np.minimum(n_relevant, k).astype(int) - 1]
    precision_at_r = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
    n_hits = hits.sum(axis=1)
    return {
        "ndcg": (hits * discounts[: hits.shape[1]]).sum(axis=1) / ideal,
        "precision": n_hits / k,
        "recall": n_hits / n_relevant,
        "map": (hits * precision_at_r).sum(axis=1) / np.minimum(n_relevant, k),
        "hit_rate": (n_hits > 0).astype(np.float64),
    }


def coverage(recommended: NDArray[np.int64], n_items: int) -> float:
    """Share of the catalogue that appears in at least one user's list."""
    return float(len(np.unique(recommended)) / n_items)


def evaluate_lists(
    recommended: NDArray[np.int64], relevant: sp.csr_matrix, n_items: int, k: int = 10
) -> dict[str, float]:
    """Mean of each metric over users, plus catalogue coverage, keyed like ``ndcg@10``."""
    values = {f"{name}@{k}": float(v.mean()) for name, v in per_user(recommended, relevant, k).items()}
    values["coverage"] = coverage(recommended[:, :k], n_items)
    return values
