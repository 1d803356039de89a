"""Item-based k-nearest-neighbours: "people who played what you played also played this".

Sarwar et al., "Item-based collaborative filtering recommendation algorithms" (WWW 2001); Linden, Smith, York,
"Amazon.com recommendations: item-to-item collaborative filtering" (IEEE Internet Computing 2003). Each item
keeps its ``neighbours`` most similar items; a user's score for item j is the sum of the similarities between
j and the items they played. Two similarities, as implicit offers them:

- ``cosine`` on the binarised matrix: the cosine of two items' listener sets;
- ``bm25``: item vectors weighted by BM25 (Robertson et al.) then dotted, which discounts heavy users and
  blockbuster items -- a well-known strong variant on Last.fm-like data.
"""

from __future__ import annotations

from typing import Literal, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.models.base import Recommender, binarise, bm25_weight

Similarity = Literal["cosine", "bm25"]


def keep_top_per_row(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Keep the ``n`` largest entries of each row (the neighbour list), dropping the rest."""
    matrix = matrix.tocsr()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((-matrix.data, rows))  # by row, then by similarity, largest first
    rank_in_row = np.arange(matrix.nnz) - matrix.indptr[rows[order]]
    keep = order[rank_in_row < n]
    return sp.csr_matrix(
        (matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape, dtype=np.float32
    )


class ItemKNN(Recommender):
    def __init__(
        self,
        neighbours: int = 100,
        similarity: Similarity = "cosine",
        k1: float = 100.0,
        b: float = 0.8,
    ) -> None:
        self.neighbours = neighbours
        self.similarity_kind: Similarity = similarity
        self.k1 = k1
        self.b = b
        self.name = "item_knn" if similarity == "cosine" else "item_knn_bm25"
        self.similarity: sp.csr_matrix = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, counts: sp.csr_matrix) -> Self:
        if self.similarity_kind == "cosine":
            weighted = binarise(counts)
            norms = np.sqrt(np.asarray(weighted.power(2).sum(axis=0)).ravel())
            weighted = weighted @ sp.diags(1.0 / np.maximum(norms, 1e-12)).astype(np.float32)
        else:
            weighted = bm25_weight(counts, self.k1, self.b)
        sim = (weighted.T @ weighted).tocsr().astype(np.float32)
        sim.setdiag(0.0)  # an item is not its own neighbour
        sim.eliminate_zeros()
        self.similarity = keep_top_per_row(sim, self.neighbours)
        return self

    def score(self, counts: sp.csr_matrix, users: NDArray[np.int64]) -> NDArray[np.float32]:
        history = binarise(counts[users])
        return np.asarray((history @ self.similarity).toarray(), dtype=np.float32)
