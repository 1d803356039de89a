"""A deterministic synthetic listening log: power-law popularity and latent taste clusters, seeded.

Real play logs have two properties every recommender exploits: a few items get most plays (a Zipf-like long
tail), and users fall into tastes (genres) that pick items together. This generator plants both so tests can
check that a model *finds* them: each item belongs to one of ``n_clusters`` tastes and has a power-law base
popularity; each user has a favourite taste and draws a ``taste_strength`` share of their items from it (by
popularity), the rest from the whole catalogue. Play counts are heavier inside the user's taste, as loyalty
is. The same ``seed`` always yields the same data (it is the data of every test and of the embedded demo).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from recommender.data.interactions import Interactions, from_triples


@dataclass(frozen=True)
class SyntheticTruth:
    """The planted structure: each user's favourite cluster and each item's cluster (matrix order)."""

    user_cluster: NDArray[np.int64]
    item_cluster: NDArray[np.int64]


def generate(
    n_users: int = 1000,
    n_items: int = 2000,
    n_clusters: int = 8,
    *,
    mean_items_per_user: float = 25.0,
    popularity_exponent: float = 0.9,
    taste_strength: float = 0.8,
    seed: int = 0,
) -> tuple[Interactions, SyntheticTruth]:
    """Generate the log and the truth it was planted from. Every user gets at least 3 items."""
    if not 0.0 <= taste_strength <= 1.0:
        raise ValueError("taste_strength is a share between 0 and 1")
    rng = np.random.default_rng(seed)
    item_cluster = rng.integers(0, n_clusters, size=n_items)
    # Zipf-like base popularity, assigned to items in random order so cluster and popularity are independent.
    popularity = 1.0 / np.arange(1, n_items + 1, dtype=np.float64) ** popularity_exponent
    popularity = popularity[rng.permutation(n_items)]
    global_p = popularity / popularity.sum()
    cluster_p = []
    for cluster in range(n_clusters):
        weights = np.where(item_cluster == cluster, popularity, 0.0)
        cluster_p.append(weights / weights.sum() if weights.sum() > 0 else global_p)

    user_cluster = rng.integers(0, n_clusters, size=n_users)
    sizes = np.clip(rng.lognormal(np.log(mean_items_per_user) - 0.125, 0.5, size=n_users), 3, n_items // 2)
    users: list[str] = []
    items: list[str] = []
    counts: list[float] = []
    for user in range(n_users):
        size = int(sizes[user])
        in_taste = rng.binomial(size, taste_strength)
        p = cluster_p[user_cluster[user]]
        chosen = set(rng.choice(n_items, size=min(in_taste, int((p > 0).sum())), replace=False, p=p).tolist())
        while len(chosen) < size:  # the rest from the whole catalogue, without repeating an item
            chosen.update(rng.choice(n_items, size=size - len(chosen), replace=False, p=global_p).tolist())
        for item in sorted(chosen):
            loyal = item_cluster[item] == user_cluster[user]
            plays = 1.0 + np.floor(rng.lognormal(2.0 if loyal else 0.5, 1.0))
            users.append(f"u{user}")
            items.append(f"i{item}")
            counts.append(float(plays))
    interactions = from_triples(users, items, counts, name=f"synthetic-{n_users}x{n_items}-seed{seed}")
    # from_triples sorts ids as strings; map the truth into that order.
    user_order = np.array([int(u[1:]) for u in interactions.user_ids])
    item_order = np.array([int(i[1:]) for i in interactions.item_ids])
    truth = SyntheticTruth(user_cluster=user_cluster[user_order], item_cluster=item_cluster[item_order])
    return interactions, truth


def synthetic(n_users: int = 1000, n_items: int = 2000, n_clusters: int = 8, seed: int = 0) -> Interactions:
    """The synthetic log alone (see :func:`generate` for the other knobs)."""
    return generate(n_users=n_users, n_items=n_items, n_clusters=n_clusters, seed=seed)[0]
