"""``answers demo 2``: a small live run of two migrations, naive vs safe, beside the committed figures.

Small on purpose (50,000 plays, 100 requests/s, a 3 s baseline, in throwaway schemas): the shape shows
already, a naive migration stalls or breaks clients while its safe twin does not; the committed numbers from
``make bench-migrations`` (1,000,000 plays at 500 requests/s) are printed next to it. Writes no file.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from migrations_demo.catalog import MODES
from migrations_demo.harness import RunConfig, run_once
from migrations_demo.settings import MigrationSettings, postgres_problem
from observability.results import RESULTS_DIR

KEYS = ("errors", "p99_ms", "max_ms", "lost_writes")


def committed(path: Path = RESULTS_DIR / "migrations.json") -> dict[tuple[str, str], dict[str, Any]]:
    if not path.exists():
        return {}
    runs = json.loads(path.read_text(encoding="utf-8")).get("runs", [])
    return {(r["migration"], r["mode"]): r for r in runs}


def run(
    migrations: tuple[str, ...] = ("add_column", "rename_column"),
    *,
    rows: int = 50_000,
    rate: float = 100.0,
    baseline_s: float = 3.0,
    console: Console | None = None,
) -> list[dict[str, Any]]:
    console = console or Console()
    settings = MigrationSettings()
    problem = postgres_problem(settings.database_url)
    if problem:
        console.print(problem, style="red", markup=False)
        raise SystemExit(1)
    full = committed()
    live: list[dict[str, Any]] = []
    for name in migrations:
        for mode in MODES:
            console.print(f"{name} ({mode}): {rows} rows, {rate:g} req/s, {baseline_s:g} s baseline ...")
            config = RunConfig(
                name,
                mode,
                rows=rows,
                rate=rate,
                baseline_s=baseline_s,
                tail_s=1.0,
                deploy_lag_s=1.0,
                database_url=settings.database_url,
            )
            live.append(asyncio.run(run_once(config)).summary())
    table = Table(title=f"live ({rows} rows, {rate:g} req/s) | committed (make bench-migrations)")
    table.add_column("migration")
    table.add_column("mode")
    for key in KEYS:
        table.add_column(f"{key} live", justify="right")
        table.add_column(f"{key} full", justify="right", style="dim")
    for summary in live:
        ref = full.get((summary["migration"], summary["mode"]), {})
        cells = [str(c) for key in KEYS for c in (summary[key], ref.get(key, "-"))]
        table.add_row(summary["migration"], summary["mode"], *cells)
    console.print(table)
    if not full:
        console.print("No committed figures yet: `make bench-migrations` writes results/migrations.json.")
    return live


def main() -> None:
    run()


if __name__ == "__main__":
    main()
