"""Alternating least squares for implicit feedback, solved with conjugate gradient.

Hu, Koren, Volinsky, "Collaborative Filtering for Implicit Feedback Datasets" (ICDM 2008). A play is not a
rating: it says the user *probably* likes the item (preference p_ui = 1) with a confidence that grows with the
play count, c_ui = 1 + alpha * f(count); everything unplayed is a weak 0 (c_ui = 1). We minimise
    sum_ui c_ui (p_ui - x_u . y_i)^2 + lambda (|x|^2 + |y|^2)
by fixing the items and solving every user's k x k normal equations, then the other way round. The trick that
makes it cheap: (Y^T C_u Y + lambda I) = (Y^T Y + lambda I) + Y^T (C_u - I) Y, and the second term touches
only the items the user played. Takács, Pilászy, Tikk, "Applications of the conjugate gradient method for
implicit feedback collaborative filtering" (RecSys 2011), and benfred/implicit after them, solve each system
approximately with a few conjugate-gradient steps warm-started from the last iterate instead of factorising
it. Here the CG runs for all users at once as array operations (a gather, a row-wise dot and one sparse
product per step).

Regularisation: plain lambda (as implicit) or, with ``scale_regularization``, weighted-lambda -- lambda times
the row's number of played items (Zhou et al., "Large-scale Parallel Collaborative Filtering for the Netflix
Prize", AAIM 2008; Spark MLlib's only mode), which shrinks popular items and heavy users harder.

Fold-in (implicit's ``recalculate_user``) solves one user's system exactly from their current history, so new
plays count without retraining; the same system explains a score as a sum of per-played-item contributions
(section 5 of the paper).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, Self

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from numpy.typing import NDArray
from rich.progress import track
from threadpoolctl import threadpool_limits

from recommender.models.base import Recommender, top_k

Scale = Literal["log", "linear", "binary"]
Factors = NDArray[np.float32]
BLOCKS_PER_WORKER = 2


def confidence(counts: sp.csr_matrix, alpha: float, scale: Scale) -> sp.csr_matrix:
    """c_ui = 1 + alpha * f(count) on the played entries; f is log(1 + count), count, or 1."""
    conf = counts.copy().astype(np.float32)
    if scale == "log":
        conf.data = np.log1p(conf.data)
    elif scale == "binary":
        conf.data[:] = 1.0
    conf.data = 1.0 + alpha * conf.data
    return conf


def _cg_rows(
    conf: sp.csr_matrix, x: Factors, y: Factors, *, gram: Factors, ridge: Factors, cg_steps: int
) -> None:
    """``cg_steps`` CG steps for every row of ``x`` (a block of rows, updated in place); see cg_half_step."""
    per_row = np.diff(conf.indptr)
    gathered = y[conf.indices]  # y_i for every played (u, i), reused by every CG step
    extra = conf.data - np.float32(1.0)  # c_ui - 1: the only part that differs from the shared Gram matrix
    weights = conf.copy()  # same sparsity every step: only .data is rewritten, no new matrix is validated

    def apply(v: Factors) -> Factors:
        # (C_u - I) part: for each played (u, i) the weight (c_ui - 1) * (y_i . v_u), summed back per row.
        dots = np.einsum("ij,ij->i", gathered, np.repeat(v, per_row, axis=0))
        np.multiply(extra, dots, out=weights.data)
        out = v @ gram
        out += ridge[:, None] * v
        out += weights @ y
        return out

    b = np.asarray(conf @ y, dtype=np.float32)  # Y^T C_u p_u: p_ui = 1 exactly where c_ui > 1
    r = b - apply(x)
    p = r.copy()
    rs_old = np.einsum("ij,ij->i", r, r)
    for _ in range(cg_steps):
        ap = apply(p)
        p_ap = np.einsum("ij,ij->i", p, ap)
        step = np.divide(rs_old, p_ap, out=np.zeros_like(rs_old), where=p_ap > 1e-20)
        x += step[:, None] * p
        r -= step[:, None] * ap
        rs_new = np.einsum("ij,ij->i", r, r)
        beta = np.divide(rs_new, rs_old, out=np.zeros_like(rs_new), where=rs_old > 1e-20)
        p = r + beta[:, None] * p
        rs_old = rs_new


def cg_half_step(
    conf: sp.csr_matrix,
    x: Factors,
    y: Factors,
    regularization: float,
    cg_steps: int,
    *,
    scale_regularization: bool = False,
    pool: ThreadPoolExecutor | None = None,
) -> None:
    """Update every row of ``x`` (in place) by ``cg_steps`` CG steps on its normal equations, ``y`` fixed.

    Row u solves (Y^T Y + lambda I + Y^T (C_u - I) Y) x_u = Y^T C_u p_u. Rows are independent, so with a
    thread pool the rows are cut into blocks of about equal work (numpy and scipy release the GIL in the
    heavy loops) -- the same parallelism implicit gets from OpenMP. With ``scale_regularization`` row u's
    lambda is multiplied by its number of played items (weighted-lambda, as Spark MLlib does).
    """
    gram = (y.T @ y).astype(np.float32)
    per_row = np.diff(conf.indptr).astype(np.float32)
    ridge = (regularization * (per_row if scale_regularization else np.ones_like(per_row))).astype(np.float32)
    workers = pool._max_workers if pool is not None else 1  # noqa: SLF001 - the pool's own size, read only
    if workers <= 1 or conf.shape[0] < 2 * workers:
        _cg_rows(conf, x, y, gram=gram, ridge=ridge, cg_steps=cg_steps)
        return
    # block boundaries at equal shares of (rows + played entries), the two costs of a CG step; a few blocks
    # per worker, so that on a busy machine a worker slowed by another process does not hold up the rest
    # (implicit's OpenMP loop balances the same way with its "guided" schedule)
    blocks = BLOCKS_PER_WORKER * workers
    work = np.arange(conf.shape[0] + 1) + conf.indptr
    bounds = np.searchsorted(work, np.linspace(0, work[-1], blocks + 1)[1:-1])
    edges = [0, *bounds.tolist(), conf.shape[0]]
    futures = [
        pool.submit(  # type: ignore[union-attr]
            _cg_rows, conf[lo:hi], x[lo:hi], y, gram=gram, ridge=ridge[lo:hi], cg_steps=cg_steps
        )
        for lo, hi in itertools.pairwise(edges)
        if hi > lo
    ]
    for future in futures:
        future.result()


class ALS(Recommender):
    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.1,
        alpha: float = 2.0,
        *,
        scale: Scale = "log",
        iterations: int = 15,
        cg_steps: int = 3,
        seed: int = 0,
        num_threads: int = 0,
        show_progress: bool = False,
        scale_regularization: bool = False,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.scale: Scale = scale
        self.iterations = iterations
        self.cg_steps = cg_steps
        self.seed = seed
        self.num_threads = num_threads or os.cpu_count() or 1
        self.show_progress = show_progress
        # Weighted-lambda (Zhou et al. 2008, "ALS-WR"; Spark MLlib's only mode): lambda times the row's number
        # of played items. Off by default, like implicit; Spark-trained factors are folded in with it on.
        self.scale_regularization = scale_regularization
        self.user_factors: Factors = np.zeros((0, factors), dtype=np.float32)
        self.item_factors: Factors = np.zeros((0, factors), dtype=np.float32)

    def params(self) -> dict[str, float | int | str]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "scale": self.scale,
            "iterations": self.iterations,
            "cg_steps": self.cg_steps,
            "seed": self.seed,
            "scale_regularization": self.scale_regularization,
        }

    def fit(self, counts: sp.csr_matrix) -> Self:
        conf = confidence(counts, self.alpha, self.scale)
        conf_t = conf.T.tocsr()
        rng = np.random.default_rng(self.seed)
        # small positive start, as implicit does: large random factors would dominate the first solves
        self.user_factors = (rng.random((conf.shape[0], self.factors), dtype=np.float32) * 0.01).astype(
            np.float32
        )
        self.item_factors = (rng.random((conf.shape[1], self.factors), dtype=np.float32) * 0.01).astype(
            np.float32
        )
        steps = track(
            range(self.iterations), description="ALS", disable=not self.show_progress, transient=True
        )
        # Parallel over row blocks, BLAS single-threaded inside them (implicit's advice too): nested pools of
        # BLAS threads fighting over two cores make the small k x k products many times slower.
        with ThreadPoolExecutor(self.num_threads) as pool, threadpool_limits(1, "blas"):
            for _ in steps:
                for rows, x, y in (
                    (conf, self.user_factors, self.item_factors),
                    (conf_t, self.item_factors, self.user_factors),
                ):
                    cg_half_step(
                        rows,
                        x,
                        y,
                        self.regularization,
                        self.cg_steps,
                        scale_regularization=self.scale_regularization,
                        pool=pool,
                    )
        return self

    def score(self, counts: sp.csr_matrix, users: NDArray[np.int64]) -> NDArray[np.float32]:
        del counts  # a factor model scores from the users' trained factors
        return np.asarray(self.user_factors[users] @ self.item_factors.T, dtype=np.float32)

    # ---- one user at a time: what the online service needs -------------------------------------------------

    def _user_system(
        self, items: NDArray[np.int64], counts: NDArray[np.floating]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """The k x k matrix W_u = Y^T C_u Y + lambda I, the right-hand side Y^T C_u p_u, and c_u."""
        row = sp.csr_matrix(
            (np.asarray(counts, np.float32), (np.zeros(len(items), int), items)),
            shape=(1, self.item_factors.shape[0]),
        )
        conf = confidence(row, self.alpha, self.scale)
        y = self.item_factors.astype(np.float64)
        played = y[conf.indices]
        c = conf.data.astype(np.float64)
        reg = self.regularization * (len(c) if self.scale_regularization else 1.0)
        w = y.T @ y + reg * np.eye(self.factors) + played.T @ ((c - 1.0)[:, None] * played)
        return w, played.T @ c, c

    def fold_in(self, items: NDArray[np.int64], counts: NDArray[np.floating]) -> Factors:
        """A user's factor from their current history (item indices and play counts), in one exact solve."""
        if len(items) == 0:
            return np.zeros(self.factors, dtype=np.float32)
        w, rhs, _ = self._user_system(np.asarray(items, np.int64), counts)
        solved: NDArray[np.float64] = scipy.linalg.solve(w, rhs, assume_a="pos")
        return solved.astype(np.float32)

    def explain(
        self, items: NDArray[np.int64], counts: NDArray[np.floating], item: int, n: int = 5
    ) -> tuple[float, list[tuple[int, float]]]:
        """Score of ``item`` for this history and the ``n`` played items that contributed most.

        x_u = W_u^-1 Y^T C_u p_u, so y_i . x_u = sum_j c_uj (y_i^T W_u^-1 y_j): one term per played item j.
        """
        items = np.asarray(items, np.int64)
        if len(items) == 0:
            return 0.0, []
        order = np.argsort(items)  # the system lists played items in index order
        w, _, c = self._user_system(items[order], np.asarray(counts)[order])
        weighted = scipy.linalg.cho_solve(
            scipy.linalg.cho_factor(w), self.item_factors[item].astype(np.float64)
        )
        contributions = c * (self.item_factors[items[order]].astype(np.float64) @ weighted)
        best = np.argsort(-contributions)[:n]
        return float(contributions.sum()), [(int(items[order][j]), float(contributions[j])) for j in best]

    def similar_items(self, item: int, k: int = 10) -> NDArray[np.int64]:
        """The ``k`` items whose factors have the highest cosine with ``item``'s (itself excluded)."""
        norms = np.linalg.norm(self.item_factors, axis=1)
        sims = (self.item_factors @ self.item_factors[item]) / np.maximum(norms * norms[item], 1e-12)
        sims[item] = -np.inf
        best: NDArray[np.int64] = top_k(sims[None, :], k)[0]
        return best
