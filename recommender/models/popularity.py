"""The baseline every personalised model must clearly beat: recommend what most users play.

Popularity is counted as the number of distinct listeners per item (not total plays, which one obsessive fan
can inflate). It is also the honest cold-start answer for a user we know nothing about.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.models.base import Recommender


class Popularity(Recommender):
    name = "popularity"

    def __init__(self) -> None:
        self.listeners: NDArray[np.float32] = np.zeros(0, dtype=np.float32)

    def fit(self, counts: sp.csr_matrix) -> Self:
        self.listeners = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float32)
        return self

    def score(self, counts: sp.csr_matrix, users: NDArray[np.int64]) -> NDArray[np.float32]:
        del counts  # the same list for everyone; exclusion of played items happens in recommend
        return np.tile(self.listeners, (len(users), 1))
