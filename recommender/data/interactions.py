"""The one in-memory shape every loader returns: a sparse user x item matrix of play counts plus the external
ids.

Rows are users and columns are items, in the order of ``user_ids`` / ``item_ids``; a value is how often the
user played the item (duplicates summed). Models see only the matrix; ids matter at the edges (files,
artifacts, the service), so they travel with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray


@dataclass(frozen=True)
class Interactions:
    """A user x item count matrix (CSR, float32) with the external id of every row and column."""

    matrix: sp.csr_matrix
    user_ids: NDArray[np.str_]
    item_ids: NDArray[np.str_]
    name: str = "interactions"

    def __post_init__(self) -> None:
        if self.matrix.shape != (len(self.user_ids), len(self.item_ids)):
            raise ValueError(
                f"matrix shape {self.matrix.shape} does not match {len(self.user_ids)} users "
                f"x {len(self.item_ids)} items"
            )

    @property
    def n_users(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def n_interactions(self) -> int:
        return int(self.matrix.nnz)

    def content_hash(self) -> str:
        """SHA-256 of the canonical content (ids, structure, counts): the 'data hash' an artifact records."""
        digest = hashlib.sha256()
        matrix = self.matrix.tocsr()
        matrix.sort_indices()
        for array in (matrix.indptr, matrix.indices, matrix.data):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        for ids in (self.user_ids, self.item_ids):
            digest.update("\x1f".join(ids.tolist()).encode())
        return digest.hexdigest()


def from_triples(
    users: Sequence[str] | NDArray[np.str_],
    items: Sequence[str] | NDArray[np.str_],
    counts: Sequence[float] | NDArray[np.floating],
    name: str = "interactions",
) -> Interactions:
    """Build an :class:`Interactions` from parallel (user, item, count) columns; repeated pairs are summed."""
    user_ids, user_index = np.unique(np.asarray(users, dtype=np.str_), return_inverse=True)
    item_ids, item_index = np.unique(np.asarray(items, dtype=np.str_), return_inverse=True)
    matrix = sp.csr_matrix(
        (np.asarray(counts, dtype=np.float32), (user_index, item_index)),
        shape=(len(user_ids), len(item_ids)),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    return Interactions(matrix=matrix, user_ids=user_ids, item_ids=item_ids, name=name)
