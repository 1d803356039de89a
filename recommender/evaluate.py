"""``python -m recommender.evaluate --data PATH --format lastfm|movielens|csv --json OUT``: the offline
comparison.

Runs the protocol of :mod:`recommender.protocol` (3 seeds, equal tuning budget, implicit's models on the same
splits) with a progress display, prints the table and writes the JSON (dataset, protocol, models, targets).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from threadpoolctl import threadpool_limits

from recommender.data import FORMATS, Interactions, load
from recommender.protocol import evaluate, protocol_description, steps_per_seed, targets
from recommender.tuning import model_specs

MODEL_KEYS = (
    "ndcg@10",
    "ndcg@10_std",
    "precision@10",
    "recall@10",
    "map@10",
    "hit_rate@10",
    "coverage",
    "fit_s",
)


@contextmanager
def progress_display(total: int, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A rich progress bar advanced once per protocol step; a no-op when disabled (tests, pipes)."""
    if not enabled:
        yield lambda _: None
        return
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task("evaluating", total=total)

        def report(step: str) -> None:
            progress.update(task, advance=1, description=step[:70])

        yield report


def run(
    interactions: Interactions,
    seeds: Sequence[int] = (0, 1, 2),
    budget: int = 8,
    num_threads: int = 0,
    show_progress: bool = True,
) -> dict[str, Any]:
    """The whole comparison as a JSON-ready dict (models keyed by name, each with exactly MODEL_KEYS)."""
    threads = num_threads or os.cpu_count() or 1
    total = steps_per_seed(model_specs(), budget) * len(seeds)
    # every library's BLAS/OpenMP pool gets the same thread count: timings compare code, not core counts
    with threadpool_limits(threads), progress_display(total, show_progress) as report:
        models, _ = evaluate(interactions.matrix, seeds, budget, threads, report)
    protocol = protocol_description(seeds, budget, threads)
    protocol["chosen_params"] = {name: entry.pop("params") for name, entry in models.items()}
    protocol["targets"] = targets(models)
    return {
        "dataset": {
            "name": interactions.name,
            "users": interactions.n_users,
            "items": interactions.n_items,
            "interactions": interactions.n_interactions,
        },
        "protocol": protocol,
        "models": {name: {key: entry[key] for key in MODEL_KEYS} for name, entry in models.items()},
    }


def print_table(result: dict[str, Any], console: Console | None = None) -> None:
    table = Table(title=f"{result['dataset']['name']}: top-10, mean over seeds")
    for column in ("model", *MODEL_KEYS):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, entry in result["models"].items():
        table.add_row(
            name, *(f"{entry[key]:.4f}" if key != "fit_s" else f"{entry[key]:.2f}" for key in MODEL_KEYS)
        )
    (console or Console()).print(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recommender.evaluate", description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--format", choices=FORMATS, required=True)
    parser.add_argument("--json", type=Path, required=True, help="where to write the results")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=8, help="configurations tried per model")
    parser.add_argument("--threads", type=int, default=0, help="threads for every library (0: all cores)")
    args = parser.parse_args(argv)
    result = run(load(args.data, args.format), args.seeds, args.budget, args.threads)
    print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
