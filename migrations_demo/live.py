"""``python -m migrations_demo.live --migration NAME --mode safe|naive --rows N --rate R --repeats K``

Runs one migration under live load K times (each in a fresh schema of the shared PostgreSQL), prints what the
clients saw during the migration window next to the baseline, the longest lock wait and who held it, and the
integrity audit; then the median over the repeats, as ``make bench-migrations`` records it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from migrations_demo.catalog import MIGRATIONS, MODES
from migrations_demo.harness import RunConfig, RunResult, run_once
from migrations_demo.locks import LockPolicy
from migrations_demo.settings import MigrationSettings
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


def _positive(kind: type[int | float], *, allow_zero: bool = False) -> object:
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
        batch_size=s.backfill_batch_size,
        backfill_pause_s=s.backfill_pause_s,
    )


def report(results: Sequence[RunResult], console: Console) -> dict[str, object]:
    table = Table(
        title=f"{results[0].config.migration} ({results[0].config.mode}) during the migration window"
    )
    table.add_column("run")
    for key in SHOWN:
        table.add_column(key, justify="right")
    summaries = [r.summary() for r in results]
    for i, summary in enumerate(summaries, 1):
        table.add_row(str(i), *(str(summary[k]) for k in SHOWN))
    median = median_run(summaries)
    if len(results) > 1:
        table.add_row("median", *(str(median[k]) for k in SHOWN), style="bold")
    console.print(table)
    for i, r in enumerate(results, 1):
        holder = r.longest_wait.holder if r.longest_wait else "nobody waited"
        console.print(f"run {i}: longest lock wait behind [bold]{holder}[/bold]")
        if r.lock_events:
            console.print(f"run {i}: {len(r.lock_events)} lock timeouts, each retried after a jittered pause")
        if r.migration_error:
            console.print(f"run {i}: [red]migration failed[/red]: {r.migration_error}")
        if not r.audit.ok:
            console.print(f"run {i}: [red]audit failed[/red]: {r.audit}")
    return median


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = config_from(args)
    console = Console()
    results = []
    for repeat in range(args.repeats):
        console.print(
            f"run {repeat + 1}/{args.repeats}: {config.rows} rows, {config.baseline_s:g} s baseline ..."
        )
        results.append(asyncio.run(run_once(config)))
    report(results, console)
    return 0 if all(r.audit.ok and r.migration_error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
