"""A synthetic item catalogue, many times larger than the trained one, shaped like trained item factors.

An ANN index is only as hard as the geometry it indexes: isotropic Gaussian noise is the easiest case (no
clusters, norms all alike) and near-copies of a few thousand trained vectors the most misleading one (dense
clumps of near-duplicates whose top 10 is decided by noise, so "recall" measures tie-breaking). We instead fit
a Gaussian mixture to the trained item factors and sample from it: k-means finds the clusters (artists of a
genre, the long tail near the origin), each cluster keeps its own mean and full covariance (so its spread,
its correlated directions and its norm range), and clusters are drawn in proportion to their size. One hard
k-means assignment followed by per-cluster moments is the first M-step of EM for a Gaussian mixture (Bishop,
"Pattern Recognition and Machine Learning", 9.2); small clusters borrow strength from a diagonal prior so
their covariances stay positive definite.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray
from scipy.cluster.vq import kmeans2

MEMBERS_PER_CLUSTER = 50  # about 350 clusters for Last.fm's 17.6k artists
PRIOR_WEIGHT = 10.0  # pseudo-members of the shrinkage prior (the cluster's own per-dimension variance)


def mixture_catalogue(item_factors: NDArray[np.float32], n: int, seed: int = 0) -> NDArray[np.float32]:
    """``n`` float32 vectors drawn from a Gaussian mixture fitted to the non-zero rows of ``item_factors``."""
    rng = np.random.default_rng(seed)
    live = item_factors[np.linalg.norm(item_factors, axis=1) > 0].astype(np.float64)
    dims = live.shape[1]
    clusters = max(1, min(len(live) // MEMBERS_PER_CLUSTER, 1024))
    # "points" starts from random members; "++" seeding is a Python loop that takes minutes at this size
    with warnings.catch_warnings():  # an empty cluster is harmless: it gets no members and no samples
        warnings.simplefilter("ignore", UserWarning)
        _, labels = kmeans2(live, clusters, minit="points", seed=seed)
    sizes = np.bincount(labels, minlength=clusters)
    global_var = live.var(axis=0)
    means = np.zeros((clusters, dims))
    roots = np.zeros((clusters, dims, dims))
    for c in np.flatnonzero(sizes):
        members = live[labels == c]
        means[c] = members.mean(axis=0)
        centred = members - means[c]
        # shrink towards a diagonal prior: the cluster's own variances, or the global ones for a singleton
        prior = np.diag(centred.var(axis=0) if len(members) > 1 else 0.01 * global_var) + 1e-8 * np.eye(dims)
        cov = (centred.T @ centred + PRIOR_WEIGHT * prior) / (len(members) + PRIOR_WEIGHT)
        roots[c] = np.linalg.cholesky(cov)
    counts = rng.multinomial(n, sizes / sizes.sum())
    slots = rng.permutation(n)  # clusters interleaved, so an index is built in no particular order
    out = np.empty((n, dims), dtype=np.float32)
    taken = 0
    for c in np.flatnonzero(counts):
        noise = rng.standard_normal((int(counts[c]), dims))
        out[slots[taken : taken + counts[c]]] = means[c] + noise @ roots[c].T
        taken += int(counts[c])
    return out
