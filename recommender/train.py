"""``python -m recommender.train``: fit ALS (numpy, or Spark MLlib with ``--engine spark``) into a new
artifact.

Steps: load the data (Last.fm 2K when present, else the synthetic log), optionally tune on an inner split,
measure the chosen model on a held-out split (the metrics recorded in the manifest), refit on all data, build
the Voyager index over the item factors, and write the artifact atomically (see :mod:`recommender.artifact`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recommender.ann import DEFAULT_EF_CONSTRUCTION, DEFAULT_EF_SEARCH, DEFAULT_M, ItemIndex
from recommender.artifact import MODELS_DIR, save
from recommender.data import FORMATS, Interactions, find_lastfm, load, synthetic
from recommender.metrics import evaluate_lists
from recommender.models.als import ALS
from recommender.models.base import Recommender
from recommender.spark_als import SPARK_GRID, SparkALS
from recommender.split import holdout_split
from recommender.tuning import ALS_GRID, configurations

DEFAULT_PARAMS: dict[str, Any] = {
    "factors": 64,
    "regularization": 1.0,
    "alpha": 1.0,
    "scale": "log",
    "iterations": 15,
}


def build(engine: str, params: dict[str, Any], seed: int = 0, show_progress: bool = False) -> Recommender:
    if engine == "spark":
        return SparkALS(**params, seed=seed)  # imports pyspark only when it fits
    return ALS(**params, seed=seed, show_progress=show_progress)


def holdout_metrics(engine: str, params: dict[str, Any], counts: Any, seed: int) -> dict[str, float]:
    split = holdout_split(counts, seed=seed)
    model = build(engine, params, seed).fit(split.train)
    return evaluate_lists(
        model.recommend(split.train, split.users, 10), split.test[split.users], counts.shape[1]
    )


def tune(
    engine: str, counts: Any, budget: int, seed: int = 0, grid: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Best configuration by NDCG@10 on an inner split of the training part (never the held-out test part)."""
    inner = holdout_split(holdout_split(counts, seed=seed).train, seed=seed + 1000)
    best: tuple[float, dict[str, Any]] | None = None
    default_grid = SPARK_GRID if engine == "spark" else ALS_GRID
    for params in configurations(grid or default_grid, budget, seed):
        model = build(engine, params, seed).fit(inner.train)
        ndcg = evaluate_lists(
            model.recommend(inner.train, inner.users, 10), inner.test[inner.users], counts.shape[1]
        )["ndcg@10"]
        if best is None or ndcg > best[0]:
            best = (ndcg, params)
    assert best is not None
    return best[1]


def train(
    interactions: Interactions,
    out: Path = MODELS_DIR,
    engine: str = "numpy",
    *,
    params: dict[str, Any] | None = None,
    tune_budget: int = 0,
    seed: int = 0,
    ann: tuple[int, int, int] = (DEFAULT_M, DEFAULT_EF_CONSTRUCTION, DEFAULT_EF_SEARCH),
    show_progress: bool = False,
) -> Path:
    """Train, measure, index and save one artifact; returns its folder."""
    counts = interactions.matrix
    chosen = dict(params or DEFAULT_PARAMS)
    if tune_budget > 0:
        chosen = tune(engine, counts, tune_budget, seed)
    metrics = holdout_metrics(engine, chosen, counts, seed)
    fitted = build(engine, chosen, seed, show_progress).fit(counts)
    model = fitted.as_als() if isinstance(fitted, SparkALS) else fitted
    if not isinstance(model, ALS):
        raise TypeError(f"engine {engine!r} did not produce a factor model")
    m, ef_construction, ef_search = ann
    index = ItemIndex.build(model.item_factors, m=m, ef_construction=ef_construction, ef_search=ef_search)
    return save(
        out,
        model,
        interactions,
        engine=engine,
        metrics=metrics,
        index=index,
        extra={"ann_build": {"M": m, "ef_construction": ef_construction}},
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recommender.train", description=__doc__)
    parser.add_argument(
        "--data", type=Path, help="input file (default: Last.fm 2K if present, else synthetic)"
    )
    parser.add_argument("--format", choices=FORMATS, default="lastfm")
    parser.add_argument("--synthetic", action="store_true", help="train on the synthetic log")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="artifact root (default: data/models)")
    parser.add_argument("--engine", choices=("numpy", "spark"), default="numpy")
    parser.add_argument("--tune-budget", type=int, default=0, help="configurations to try (0: use the flags)")
    parser.add_argument("--factors", type=int, default=DEFAULT_PARAMS["factors"])
    parser.add_argument("--regularization", type=float, default=DEFAULT_PARAMS["regularization"])
    parser.add_argument("--alpha", type=float, default=DEFAULT_PARAMS["alpha"])
    parser.add_argument("--iterations", type=int, default=DEFAULT_PARAMS["iterations"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.synthetic:
        interactions = synthetic()
    else:
        path = args.data or find_lastfm()
        interactions = load(path, args.format) if path is not None else synthetic()
    params = {
        "factors": args.factors,
        "regularization": args.regularization,
        "alpha": args.alpha,
        "scale": "log",
        "iterations": args.iterations,
    }
    folder = train(
        interactions,
        args.out,
        args.engine,
        params=params,
        tune_budget=args.tune_budget,
        seed=args.seed,
        show_progress=sys.stderr.isatty(),
    )
    print(
        f"artifact {folder.name} ({interactions.name}: "
        f"{interactions.n_users} users, {interactions.n_items} items)"
    )
    print(f"written to {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
