"""benfred/implicit's ALS and item-kNN, wrapped so the evaluator runs them on exactly our splits.

``implicit`` is what practitioners use, so it is the anchor our models are measured against in the same run.
It is a benchmark-only dependency (the ``dev`` extra), imported lazily. Both wrappers receive what ours
receive: ALS gets the same confidence matrix c = 1 + alpha * f(count) (implicit treats its input as c_ui
directly, so its own ``alpha`` stays 1), item-kNN the same binarised matrix. Recommendations come from
implicit's own ``recommend`` with ``filter_already_liked_items=True``, its real serving path. implicit
parallelises with OpenMP and asks for single-threaded BLAS (it warns otherwise), so its calls run under that
threadpoolctl limit.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from recommender.models.als import Scale, confidence
from recommender.models.base import Recommender, binarise


@contextmanager
def _quiet_implicit() -> Iterator[None]:
    """Single-threaded BLAS (implicit's own advice) and none of its internal CSR-conversion notices."""
    from implicit.utils import ParameterWarning  # noqa: PLC0415 - benchmark-only dependency

    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        # implicit converts its own intermediate COO matrices and warns about it; our inputs are CSR
        warnings.simplefilter("ignore", ParameterWarning)
        yield


class ImplicitALS(Recommender):
    name = "implicit_als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.1,
        alpha: float = 2.0,
        *,
        scale: Scale = "log",
        iterations: int = 15,
        seed: int = 0,
        num_threads: int = 0,
    ) -> None:
        self.alpha = alpha
        self.scale: Scale = scale
        self.num_threads = num_threads or os.cpu_count() or 1
        self.params = {
            "factors": factors,
            "regularization": regularization,
            "iterations": iterations,
            "random_state": seed,
        }
        self.model: Any = None

    def fit(self, counts: sp.csr_matrix) -> Self:
        from implicit.cpu.als import AlternatingLeastSquares  # noqa: PLC0415 - benchmark-only dependency

        with _quiet_implicit():  # the constructor checks the BLAS thread count, so it goes inside too
            self.model = AlternatingLeastSquares(
                **self.params, alpha=1.0, num_threads=self.num_threads, calculate_training_loss=False
            )
            self.model.fit(confidence(counts, self.alpha, self.scale), show_progress=False)
        return self

    @property
    def user_factors(self) -> NDArray[np.float32]:
        return np.asarray(self.model.user_factors, dtype=np.float32)

    @property
    def item_factors(self) -> NDArray[np.float32]:
        return np.asarray(self.model.item_factors, dtype=np.float32)

    def score(self, counts: sp.csr_matrix, users: NDArray[np.int64]) -> NDArray[np.float32]:
        del counts  # a factor model scores from the users' trained factors
        return np.asarray(self.user_factors[users] @ self.item_factors.T, dtype=np.float32)

    def recommend(self, counts: sp.csr_matrix, users: NDArray[np.int64], k: int = 10) -> NDArray[np.int64]:
        with _quiet_implicit():
            ids, _ = self.model.recommend(users, counts[users], N=k, filter_already_liked_items=True)
        return np.asarray(ids, dtype=np.int64)


class ImplicitItemKNN(Recommender):
    name = "implicit_item_knn"

    def __init__(self, neighbours: int = 100, num_threads: int = 0) -> None:
        self.neighbours = neighbours
        self.num_threads = num_threads or os.cpu_count() or 1
        self.model: Any = None

    def fit(self, counts: sp.csr_matrix) -> Self:
        from implicit.nearest_neighbours import CosineRecommender  # noqa: PLC0415 - benchmark-only dependency

        self.model = CosineRecommender(K=self.neighbours, num_threads=self.num_threads)
        with _quiet_implicit():
            self.model.fit(binarise(counts), show_progress=False)
        return self

    def score(self, counts: sp.csr_matrix, users: NDArray[np.int64]) -> NDArray[np.float32]:
        return np.asarray((binarise(counts[users]) @ self.model.similarity).toarray(), dtype=np.float32)

    def recommend(self, counts: sp.csr_matrix, users: NDArray[np.int64], k: int = 10) -> NDArray[np.int64]:
        with _quiet_implicit():
            ids, _ = self.model.recommend(
                users, binarise(counts[users]), N=k, filter_already_liked_items=True
            )
        return np.asarray(ids, dtype=np.int64)
