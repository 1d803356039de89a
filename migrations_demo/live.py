"""``python -m migrations_demo.live --migration NAME --mode safe|naive --rows N --rate R --repeats K``

Runs one migration under live load K times (each on a fresh copy of one seeded template database), prints
what the clients saw during the migration window next to the baseline, the longest lock wait and who held it,
and the integrity audit; then the median over the repeats, as ``make bench-migrations`` records it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from migrations_demo.backfill import Pacing
from migrations_demo.catalog import MIGRATIONS, MODES
from migrations_demo.harness import RunConfig, RunResult, run_once, templates_for
from migrations_demo.locks import LockPolicy
from migrations_demo.settings import MigrationSettings, postgres_problem
from migrations_demo.stats import median_run

SHOWN = (
    "requests",
    "errors",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "slow_share",
    "baseline_p99_ms",
    "longest_lock_wait_ms",
    "duration_ms",
    "lost_writes",
    "checksum_ok",
)


def _positive(kind: type[int | float], *, allow_zero: bool = False) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < 0 or (value == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(f"must be {'>= 0' if allow_zero else '> 0'}, got {text}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m migrations_demo.live", description=__doc__.split("\n\n")[1])
    p.add_argument("--migration", required=True, choices=list(MIGRATIONS), help="which migration to run")
    p.add_argument("--mode", required=True, choices=MODES, help="the safe revisions or the naive twin")
    p.add_argument("--rows", type=_positive(int), default=100_000, help="plays to seed (default 100000)")
    p.add_argument("--rate", type=_positive(float), default=200.0, help="requests per second (default 200)")
    p.add_argument(
        "--repeats", type=_positive(int), default=1, help="runs, each on a fresh schema (default 1)"
    )
    p.add_argument("--baseline", type=_positive(float), default=30.0, help="seconds of load before migrating")
    p.add_argument(
        "--deploy-lag",
        type=_positive(float, allow_zero=True),
        default=2.0,
        help="seconds one rolling deploy keeps two app versions running (rename_column)",
    )
    p.add_argument(
        "--adversary",
        type=_positive(float, allow_zero=True),
        default=0.0,
        help="hold a conflicting lock this many seconds as the migration starts (0: none)",
    )
    p.add_argument("--lock-timeout-ms", type=_positive(int), default=None, help="override the lock policy")
    p.add_argument("--records", type=Path, default=None, help="write every request of run N to DIR/run-N.csv")
    return p


def config_from(args: argparse.Namespace, settings: MigrationSettings | None = None) -> RunConfig:
    s = settings or MigrationSettings()
    policy = LockPolicy.from_settings(s)
    if args.lock_timeout_ms is not None:
        policy = LockPolicy(**{**policy.__dict__, "lock_timeout_ms": args.lock_timeout_ms})
    return RunConfig(
        migration=args.migration,
        mode=args.mode,
        rows=args.rows,
        rate=args.rate,
        baseline_s=args.baseline,
        deploy_lag_s=args.deploy_lag,
        adversary_s=args.adversary,
        database_url=s.database_url,
        policy=policy,
        pacing=Pacing.from_settings(s),
    )


def report(results: Sequence[RunResult], console: Console) -> dict[str, object]:
    first = results[0].config
    table = Table(title=f"{first.migration} ({first.mode}): {first.rows} rows, {first.rate:g} req/s")
    table.add_column("during the migration window")
    summaries = [r.summary() for r in results]
    median = median_run(summaries)
    columns = [*summaries, median] if len(results) > 1 else summaries
    for i in range(len(summaries)):
        table.add_column(f"run {i + 1}", justify="right")
    if len(results) > 1:
        table.add_column("median", justify="right", style="bold")
    for key in SHOWN:
        table.add_row(key, *(str(c[key]) for c in columns))
    console.print(table)
    for i, r in enumerate(results, 1):
        if r.longest_wait is None:
            console.print(f"run {i}: no session of this run waited for a lock")
        else:
            console.print(f"run {i}: longest lock wait behind [bold]{r.longest_wait.holder}[/bold]")
        steps = ", ".join(f"{name} {end - start:.2f} s" for name, start, end in r.steps)
        console.print(f"run {i}: steps: {steps}")
        console.print(f"run {i}: phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in r.phases.items()))
        if r.lock_events:
            console.print(f"run {i}: {len(r.lock_events)} lock timeouts, each retried after a jittered pause")
        if r.migration_error:
            console.print(f"run {i}: [red]migration failed[/red]: {r.migration_error}")
        if not r.audit.ok:
            console.print(f"run {i}: [red]audit failed[/red]: {r.audit}")
    return median


def save_records(result: RunResult, path: Path) -> None:
    """Every request of one run, for a closer look: start (s, relative to the run), latency, outcome."""
    path.parent.mkdir(parents=True, exist_ok=True)
    start, end = result.window
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["start_s", "latency_ms", "op", "version", "ok", "error", "in_window"])
        for r in result.records:
            out.writerow(
                [
                    f"{r.start_s:.4f}",
                    f"{r.latency_ms:.2f}",
                    r.op,
                    r.version,
                    r.ok,
                    r.error or "",
                    start <= r.start_s < end,
                ]
            )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = config_from(args)
    problem = postgres_problem(config.database_url)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    console = Console()
    results = []
    templates = templates_for(config)  # seeded once, cloned for every repeat
    try:
        for repeat in range(args.repeats):
            console.print(
                f"run {repeat + 1}/{args.repeats}: {config.rows} rows, {config.baseline_s:g} s baseline ..."
            )
            results.append(asyncio.run(run_once(replace(config, seed=repeat), templates)))
            if args.records is not None:
                save_records(results[-1], args.records / f"run-{repeat + 1}.csv")
    finally:
        templates.close()
    report(results, console)
    return 0 if all(r.audit.ok and r.migration_error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
