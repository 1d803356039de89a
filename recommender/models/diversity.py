"""Diversity re-rank: cap how many recommended items may come from one cluster of item factors.

A list ranked purely by score often repeats one taste (ten artists of the same sub-genre): each is a good
guess, together they are a poor list. Following the maximal-marginal-relevance idea (Carbonell and Goldstein,
SIGIR 1998) in its simplest production form, items are grouped by spherical k-means on their ALS factors
(directions in taste space), and the list is filled greedily in score order, skipping an item once its cluster
already has ``max_per_cluster`` places; if the cap leaves the list short it is back-filled in score order.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def item_clusters(
    item_factors: NDArray[np.float32], n_clusters: int = 20, iterations: int = 25, seed: int = 0
) -> NDArray[np.int64]:
    """Spherical k-means: the cluster of each item's factor direction (seeded, numpy only)."""
    norms = np.linalg.norm(item_factors, axis=1, keepdims=True)
    unit = item_factors / np.maximum(norms, 1e-12)
    n_clusters = min(n_clusters, len(unit))
    rng = np.random.default_rng(seed)
    centres = unit[rng.choice(len(unit), size=n_clusters, replace=False)]
    labels = np.zeros(len(unit), dtype=np.int64)
    for _ in range(iterations):
        labels = np.argmax(unit @ centres.T, axis=1).astype(np.int64)
        for c in range(n_clusters):
            members = unit[labels == c]
            if len(members):
                mean = members.sum(axis=0)
                centres[c] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return labels


def cap_per_cluster(
    ranked: NDArray[np.int64], clusters: NDArray[np.int64], k: int, max_per_cluster: int
) -> NDArray[np.int64]:
    """The first ``k`` of ``ranked`` (best first), at most ``max_per_cluster`` per cluster, back-filled."""
    taken: list[int] = []
    skipped: list[int] = []
    per_cluster: dict[int, int] = {}
    for item in ranked.tolist():
        cluster = int(clusters[item])
        if per_cluster.get(cluster, 0) < max_per_cluster:
            taken.append(item)
            per_cluster[cluster] = per_cluster.get(cluster, 0) + 1
            if len(taken) == k:
                break
        else:
            skipped.append(item)
    taken.extend(skipped[: k - len(taken)])  # not enough distinct tastes among the candidates: fill by score
    return np.asarray(taken, dtype=np.int64)
