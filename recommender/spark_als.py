"""The scale-out path: the same implicit-feedback ALS trained by Spark MLlib, into the same artifact.

Spark's ``ALS(implicitPrefs=True)`` implements Hu, Koren, Volinsky (2008) with c = 1 + alpha * |r| (we pass
r = f(count), so the confidence is ours), solved blockwise across executors (Das et al., "Large-Scale
Matrix Factorization with Missing Data under Additional Constraints"; the MLlib guide, "Collaborative
Filtering"). Two differences matter when comparing: Spark scales lambda by each user's (item's) number of
ratings (ALS-WR, Zhou et al. 2008), and it solves each least-squares problem exactly (Cholesky) rather than
with a few CG steps. On one machine it is much slower than numpy -- the JVM, serialisation and shuffles cost
more than the maths -- and it wins only when the play matrix or the factor tables no longer fit one machine.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.models.als import ALS, Scale
from recommender.models.base import Recommender

# Spark's lambda is per rating (ALS-WR), so its useful range is far below our plain lambda's.
SPARK_GRID: dict[str, list[Any]] = {
    "factors": [64],
    "regularization": [0.005, 0.02, 0.05, 0.1],
    "alpha": [0.5, 1.0, 2.0],
    "scale": ["log"],
    "iterations": [15],
}


@cache
def spark_session(master: str = "local[1]") -> Any:
    """One quiet local Spark session per process (start-up costs seconds; reuse it)."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 - optional, heavy (starts a JVM)

    session = (
        SparkSession.builder.master(master)
        .appName("recommender-als")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.driver.memory", "2g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkALS(Recommender):
    name = "spark_als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 1.0,
        *,
        scale: Scale = "log",
        iterations: int = 15,
        seed: int = 0,
        master: str = "local[1]",
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.scale: Scale = scale
        self.iterations = iterations
        self.seed = seed
        self.master = master
        self.user_factors: NDArray[np.float32] = np.zeros((0, factors), np.float32)
        self.item_factors: NDArray[np.float32] = np.zeros((0, factors), np.float32)

    def _ratings(self, counts: sp.csr_matrix) -> sp.coo_matrix:
        coo = counts.tocoo()
        values = {"log": np.log1p(coo.data), "binary": np.ones_like(coo.data), "linear": coo.data}[self.scale]
        return sp.coo_matrix((values, (coo.row, coo.col)), shape=counts.shape)

    def fit(self, counts: sp.csr_matrix) -> Self:
        spark = spark_session(self.master)
        ratings = self._ratings(counts)
        with tempfile.TemporaryDirectory(prefix="spark-als-") as tmp:
            # Through a file rather than createDataFrame(list): no Python worker processes, and the path a
            # real job takes (read from storage). cache() + count() so Spark has read it before it goes.
            path = Path(tmp) / "ratings.csv"
            np.savetxt(path, np.column_stack([ratings.row, ratings.col, ratings.data]), fmt="%d,%d,%.6f")
            frame = spark.read.csv(str(path), schema="user INT, item INT, rating FLOAT").cache()
            frame.count()
            fitted = self._estimator().fit(frame)
            frame.unpersist()
        self.user_factors = _collect(fitted.userFactors, counts.shape[0], self.factors)
        self.item_factors = _collect(fitted.itemFactors, counts.shape[1], self.factors)
        return self

    def _estimator(self) -> Any:
        from pyspark.ml.recommendation import ALS as SparkALSEstimator  # noqa: PLC0415, N811

        return SparkALSEstimator(
            rank=self.factors,
            maxIter=self.iterations,
            regParam=self.regularization,
            alpha=self.alpha,
            implicitPrefs=True,
            userCol="user",
            itemCol="item",
            ratingCol="rating",
            seed=self.seed,
            numUserBlocks=1,
            numItemBlocks=1,
            checkpointInterval=-1,
        )

    def score(self, counts: sp.csr_matrix, users: NDArray[np.int64]) -> NDArray[np.float32]:
        del counts  # a factor model scores from the users' trained factors
        return np.asarray(self.user_factors[users] @ self.item_factors.T, dtype=np.float32)

    def as_als(self) -> ALS:
        """The trained factors in our ALS object, so artifacts, fold-in and explanations work unchanged."""
        model = ALS(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            scale=self.scale,
            iterations=self.iterations,
            seed=self.seed,
            scale_regularization=True,
        )
        model.user_factors, model.item_factors = self.user_factors, self.item_factors
        return model


def _collect(frame: Any, n: int, k: int) -> NDArray[np.float32]:
    """Spark's (id, features) rows into a dense matrix; ids Spark never saw (no training plays) stay zero."""
    out = np.zeros((n, k), dtype=np.float32)
    for row in frame.collect():
        out[int(row["id"])] = np.asarray(row["features"], dtype=np.float32)
    return out
