"""``python -m recommender.bench`` (``make bench-recommender``): writes ``results/recommender.json``.

Blocks: ``dataset`` and ``protocol`` and ``models`` from the offline comparison (:mod:`recommender.evaluate`,
on Last.fm 2K when present, else the synthetic log); ``ann`` from a norm-ranged Voyager index over a synthetic
catalogue of ``--ann-items`` item vectors drawn from a Gaussian mixture fitted to the trained item factors
(:mod:`recommender.catalogue`: clusters, their spread and their norm range survive), queried with trained
user factors one at a time against exact search on the same single thread. ``serving`` is measured by
the service step (a bounded Locust run) and joins through :data:`EXTRA_SECTIONS`. ``--quick`` runs everything
small on synthetic data into a temporary folder (for tests). One run writes the whole file (no merging of
partial runs, so no stale mixes); ``protocol.section_s`` records where its wall time went.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from observability.results import write_results
from recommender.ann import DEFAULT_BUCKETS, ItemIndex, exact_baseline, recall_at_k
from recommender.catalogue import mixture_catalogue
from recommender.data import FORMATS, Interactions, find_lastfm, load, synthetic
from recommender.evaluate import print_table, run
from recommender.models.als import ALS

ANN_M = 16
ANN_EF_CONSTRUCTION = 100  # half the 1M build of 200 (build time ~ linear in it); ef_search buys recall back
EF_SEARCH_SWEEP = (10, 20, 40, 80, 160, 320, 640, 1280, 2560)
RECALL_TARGET = 0.95
ANN_QUERIES = 200

# Later sections: (key, function of the bench context returning the block). The service step adds
# ("serving", measure_serving) here: max_rps, then at 70% of it rps, p50_ms, p99_ms, cached_p99_ms.
EXTRA_SECTIONS: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = []


def ann_block(model: ALS, n_items: int, seed: int = 0, num_threads: int = 0) -> dict[str, Any]:
    catalogue = mixture_catalogue(model.item_factors, n_items, seed)
    users = np.random.default_rng(seed + 1).choice(len(model.user_factors), size=ANN_QUERIES)
    queries = model.user_factors[users]
    start = time.perf_counter()
    index = ItemIndex.build(
        catalogue, m=ANN_M, ef_construction=ANN_EF_CONSTRUCTION, num_threads=num_threads or -1
    )
    build_s = time.perf_counter() - start
    chosen: dict[str, Any] = {}
    with threadpool_limits(1):  # one query on one thread, for the index and for the exact product alike
        exact, exact_ms = exact_baseline(catalogue, queries, 10)  # once: it does not depend on ef_search
        for ef in EF_SEARCH_SWEEP:
            recall, ann_ms = recall_at_k(index, queries, exact, ef)
            chosen = {"ef_search": ef, "recall@10": recall, "ann_ms": ann_ms, "exact_ms": exact_ms}
            if recall >= RECALL_TARGET:
                break
    return {
        "items": n_items,
        "M": ANN_M,
        "ef_construction": ANN_EF_CONSTRUCTION,
        "ef_search": chosen["ef_search"],
        "build_s": build_s,
        "recall@10": chosen["recall@10"],
        "ann_ms": chosen["ann_ms"],
        "exact_ms": chosen["exact_ms"],
    }


def _most_chosen(params: list[dict[str, Any]]) -> dict[str, Any]:
    """The ALS configuration picked by most seeds (ties: the first seed's)."""
    keys: list[tuple[tuple[str, Any], ...]] = [tuple(sorted(p.items())) for p in params]
    counts = Counter(keys)
    best = max(range(len(keys)), key=lambda i: (counts[keys[i]], -i))  # ties: the earliest seed
    return dict(keys[best])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recommender.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small synthetic run into a temporary folder")
    parser.add_argument(
        "--data", type=Path, help="input file (default: Last.fm 2K if present, else synthetic)"
    )
    parser.add_argument("--format", choices=FORMATS, default="lastfm")
    parser.add_argument("--ann-items", type=int, default=1_000_000)
    parser.add_argument("--budget", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--results-dir", type=Path, help="default: results/ (quick: a temporary folder)")
    parser.add_argument("--threads", type=int, default=0, help="threads for every library (0: all cores)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    interactions: Interactions
    if args.quick:
        interactions = synthetic(n_users=300, n_items=500, seed=0)
        seeds, budget, ann_items = [0], 1, min(args.ann_items, 3_000)
        results_dir = args.results_dir or Path(tempfile.mkdtemp(prefix="recommender-bench-"))
    else:
        path = args.data or find_lastfm()
        interactions = load(path, args.format) if path is not None else synthetic()
        seeds, budget, ann_items, results_dir = args.seeds, args.budget, args.ann_items, args.results_dir

    threads = args.threads or (1 if args.quick else 0)
    section_s: dict[str, float] = {}  # wall time of each part: where the bench's half hour goes
    start = time.perf_counter()
    result = run(interactions, seeds, budget, num_threads=threads, show_progress=not args.no_progress)
    section_s["models"] = time.perf_counter() - start
    print_table(result)
    params = _most_chosen(result["protocol"]["chosen_params"]["als"])
    start = time.perf_counter()
    model = ALS(**params, seed=0, num_threads=threads).fit(interactions.matrix)
    result["ann"] = ann_block(model, ann_items, num_threads=threads)
    section_s["ann"] = time.perf_counter() - start
    result["protocol"]["ann_norm_buckets"] = DEFAULT_BUCKETS  # see recommender.ann: norm-ranged indexes
    result["protocol"]["ann_catalogue"] = "Gaussian mixture fitted to the trained item factors"
    from recommender.serving_bench import register_serving  # noqa: PLC0415 - here: under -m we are __main__

    register_serving(EXTRA_SECTIONS)

    context = {"interactions": interactions, "model": model, "result": result, "quick": args.quick}
    for key, measure in EXTRA_SECTIONS:
        start = time.perf_counter()
        result[key] = measure(context)
        section_s[key] = time.perf_counter() - start
    result["protocol"]["section_s"] = section_s
    path = write_results("recommender", result, command="make bench-recommender", results_dir=results_dir)
    print(f"ann: {result['ann']}")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
