"""The offline evaluation protocol: hold-out per seed, tune on an inner split, refit, score, aggregate.

For each seed: hide 20% of each eligible user's items (:mod:`recommender.split`); split the remaining training
data once more the same way (the *inner* split) and pick each model's configuration by NDCG@10 on it; refit
the winner on the whole training part (timed: ``fit_s``) and score its top 10 (training items excluded)
against the hidden items. The two-stage ``ranked`` model reuses the inner split: its generators' tuned inner
fits produce the ranker's training data, their final fits produce its candidates. Means over seeds are
reported with the standard deviation of NDCG@10 across seeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.metrics import evaluate_lists
from recommender.models.base import Recommender
from recommender.models.ranker import TwoStageRanker
from recommender.split import Split, holdout_split
from recommender.tuning import ModelSpec, Params, configurations, model_specs

K = 10
RANKER_GENERATORS = ("ease", "als", "item_knn", "item_knn_bm25")
Report = Callable[[str], None]  # told what is being done next, once per step (progress display)


@dataclass
class SeedOutcome:
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    fit_s: dict[str, float] = field(default_factory=dict)
    params: dict[str, Params] = field(default_factory=dict)
    models: dict[str, Recommender] = field(default_factory=dict)  # final fits on the training part


def steps_per_seed(specs: Sequence[ModelSpec], budget: int) -> int:
    """How many times ``report`` is called per seed (to size a progress bar)."""
    return sum(len(configurations(s.grid, budget)) + 1 for s in specs) + 2


def _score(model: Recommender, split: Split, n_items: int) -> dict[str, float]:
    recommended = model.recommend(split.train, split.users, K)
    return evaluate_lists(recommended, split.test[split.users], n_items, K)


def _tune(
    spec: ModelSpec, inner: Split, budget: int, *, seed: int, n_items: int, report: Report
) -> tuple[Params, Recommender]:
    best: tuple[float, Params, Recommender] | None = None
    for params in configurations(spec.grid, budget, seed):
        report(f"tune {spec.name} {params}")
        model = spec.build(params).fit(inner.train)
        ndcg = _score(model, inner, n_items)[f"ndcg@{K}"]
        if best is None or ndcg > best[0]:
            best = (ndcg, params, model)
    assert best is not None, "a grid always has at least one configuration"
    return best[1], best[2]


def run_seed(
    counts: sp.csr_matrix, seed: int, budget: int, num_threads: int = 0, report: Report = lambda _: None
) -> SeedOutcome:
    """Everything for one seed: the split, tuning, final fits, the ranker, and all metrics."""
    n_items = counts.shape[1]
    split = holdout_split(counts, seed=seed)
    inner = holdout_split(split.train, seed=seed + 1000)
    outcome = SeedOutcome()
    inner_models: dict[str, Recommender] = {}
    for spec in model_specs(seed=seed, num_threads=num_threads):
        params, inner_models[spec.name] = _tune(
            spec, inner, budget, seed=seed, n_items=n_items, report=report
        )
        report(f"fit {spec.name}")
        start = time.perf_counter()
        model = spec.build(params).fit(split.train)
        outcome.fit_s[spec.name] = time.perf_counter() - start
        outcome.metrics[spec.name] = _score(model, split, n_items)
        outcome.params[spec.name] = params
        outcome.models[spec.name] = model

    report("fit ranked (LightGBM LambdaRank on the inner split)")
    start = time.perf_counter()
    ranker = TwoStageRanker(seed=seed, num_threads=num_threads).fit(
        {name: inner_models[name] for name in RANKER_GENERATORS}, inner.train, inner.test
    )
    ranker_s = time.perf_counter() - start
    report("score ranked")
    finals = {name: outcome.models[name] for name in RANKER_GENERATORS}
    recommended = ranker.recommend(finals, split.train, split.users, K)
    outcome.metrics["ranked"] = evaluate_lists(recommended, split.test[split.users], n_items, K)
    # the two-stage model costs its generators' fits plus the ranker's own training
    outcome.fit_s["ranked"] = ranker_s + sum(outcome.fit_s[name] for name in RANKER_GENERATORS)
    outcome.params["ranked"] = {
        "generators": list(RANKER_GENERATORS),
        "n_candidates": ranker.n_candidates,
        "trees": int(ranker.model.best_iteration or ranker.model.num_trees()),
    }
    return outcome


def aggregate(outcomes: Sequence[SeedOutcome]) -> dict[str, dict[str, Any]]:
    """Mean of every metric over seeds, the std of NDCG@10 across seeds, mean fit time, per-seed params."""
    models: dict[str, dict[str, Any]] = {}
    for name in outcomes[0].metrics:
        rows = [o.metrics[name] for o in outcomes]
        ndcg = np.array([r[f"ndcg@{K}"] for r in rows])
        entry: dict[str, Any] = {f"ndcg@{K}": float(ndcg.mean())}
        entry[f"ndcg@{K}_std"] = float(ndcg.std(ddof=1)) if len(ndcg) > 1 else 0.0
        for metric in (f"precision@{K}", f"recall@{K}", f"map@{K}", f"hit_rate@{K}", "coverage"):
            entry[metric] = float(np.mean([r[metric] for r in rows]))
        entry["fit_s"] = float(np.mean([o.fit_s[name] for o in outcomes]))
        entry["params"] = [o.params[name] for o in outcomes]
        models[name] = entry
    return models


def evaluate(
    counts: sp.csr_matrix,
    seeds: Sequence[int] = (0, 1, 2),
    budget: int = 8,
    num_threads: int = 0,
    report: Report = lambda _: None,
) -> tuple[dict[str, dict[str, Any]], list[SeedOutcome]]:
    outcomes = [run_seed(counts, seed, budget, num_threads, report) for seed in seeds]
    return aggregate(outcomes), outcomes


def protocol_description(seeds: Sequence[int], budget: int, num_threads: int) -> dict[str, Any]:
    return {
        "split": "per-user random 80/20 hold-out; users with >= 5 interactions evaluated",
        "seeds": list(seeds),
        "k": K,
        "tuning": "NDCG@10 on an inner 80/20 split of the training data only",
        "tuning_budget": budget,
        "exclude_training_items": True,
        "std": "sample std of NDCG@10 across seeds",
        "fit_s": "wall time of the final fit on the training part, mean over seeds "
        "(ranked: its generators' fits plus the ranker's training)",
        "threads": num_threads,
    }


def targets(models: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The issue's offline targets, computed from the aggregated results (True = met)."""
    ndcg = {name: float(m[f"ndcg@{K}"]) for name, m in models.items()}
    best_single = max(ndcg[n] for n in ("als", "ease", "item_knn", "item_knn_bm25"))
    personalised = [n for n in ndcg if n != "popularity"]
    return {
        "als_vs_implicit_als": ndcg["als"] / ndcg["implicit_als"],
        "als_at_least_98pct_of_implicit": ndcg["als"] >= 0.98 * ndcg["implicit_als"],
        "ease_above_every_implicit": ndcg["ease"] > max(ndcg["implicit_als"], ndcg["implicit_item_knn"]),
        "ranked_lift_over_best_single": ndcg["ranked"] / best_single - 1.0,
        "ranked_at_least_2pct_above_best_single": ndcg["ranked"] >= 1.02 * best_single,
        "personalised_at_least_2x_popularity": all(ndcg[n] >= 2 * ndcg["popularity"] for n in personalised),
        "als_fit_vs_implicit": models["als"]["fit_s"] / models["implicit_als"]["fit_s"],
        "als_fit_at_most_3x_implicit": models["als"]["fit_s"] <= 3 * models["implicit_als"]["fit_s"],
    }
