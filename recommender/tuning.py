"""Which models the protocol compares, their search spaces, and the equal tuning budget.

Every model (ours and implicit's) gets the same number of configurations, drawn with the same seed from its
grid, and is judged on an inner validation split of the training data only -- never on the test users' hidden
items. Our ALS and implicit's ALS share one grid, so with the same seed they try exactly the same
configurations and any gap between them is the implementation, not luck in the search.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender.anchors import ImplicitALS, ImplicitItemKNN
from recommender.models.als import ALS
from recommender.models.base import Recommender
from recommender.models.ease import EASE
from recommender.models.item_knn import ItemKNN
from recommender.models.popularity import Popularity

Params = dict[str, Any]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[[Params], Recommender]
    grid: Mapping[str, Sequence[Any]]


ALS_GRID: dict[str, Sequence[Any]] = {
    "factors": [64, 128],
    "regularization": [0.1, 1.0, 5.0],
    "alpha": [0.5, 1.0, 2.0],
    "scale": ["log"],
    "iterations": [15],
}
KNN_GRID: dict[str, Sequence[Any]] = {"neighbours": [50, 100, 200, 400, 800, 1600]}
BM25_GRID: dict[str, Sequence[Any]] = {"neighbours": [100, 400, 1600], "k1": [1.2, 100.0], "b": [0.8]}
EASE_GRID: dict[str, Sequence[Any]] = {"regularization": [250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0]}


def model_specs(seed: int = 0, num_threads: int = 0) -> list[ModelSpec]:
    """The compared models in report order; ``ranked`` is built from the best of these (see protocol)."""
    return [
        ModelSpec("popularity", lambda _: Popularity(), {}),
        ModelSpec("item_knn", lambda p: ItemKNN(similarity="cosine", **p), KNN_GRID),
        ModelSpec("item_knn_bm25", lambda p: ItemKNN(similarity="bm25", **p), BM25_GRID),
        ModelSpec("als", lambda p: ALS(**p, seed=seed, num_threads=num_threads), ALS_GRID),
        ModelSpec("implicit_als", lambda p: ImplicitALS(**p, seed=seed, num_threads=num_threads), ALS_GRID),
        ModelSpec("implicit_item_knn", lambda p: ImplicitItemKNN(**p, num_threads=num_threads), KNN_GRID),
        ModelSpec("ease", lambda p: EASE(**p), EASE_GRID),
    ]


def configurations(grid: Mapping[str, Sequence[Any]], budget: int, seed: int = 0) -> list[Params]:
    """Every combination if there are at most ``budget``, else ``budget`` of them drawn at random (seeded)."""
    names = sorted(grid)
    combos = [
        dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))
    ]
    if len(combos) <= budget:
        return combos
    picks = np.random.default_rng(seed).choice(len(combos), size=budget, replace=False)
    return [combos[i] for i in sorted(picks.tolist())]
