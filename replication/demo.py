"""``answers demo 7``: a small live run of every experiment, printed beside the committed full-size figures.

Runs in temp folders (the harness removes them) and never writes ``results/``.
"""

from __future__ import annotations

import json
from pathlib import Path

from observability.results import RESULTS_DIR
from replication.config import QUICK
from replication.experiments import EXPERIMENTS, missing_binaries, run_experiments
from replication.table import comparison_table, results_table, wide_console

COMMITTED = RESULTS_DIR / "replication.json"


def committed_figures(path: Path | None = None) -> tuple[dict[str, dict[str, object]], str] | None:
    """The experiments and a one-line provenance from ``results/replication.json``, or None if absent."""
    path = path or COMMITTED
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = data.get("meta", {})
    provenance = f"{meta.get('command', '?')} on {meta.get('date_utc', '?')}, {meta.get('cores', '?')} cores"
    return dict(data.get("experiments", {})), provenance


def main() -> None:
    console = wide_console()
    if missing := missing_binaries():
        console.print(
            f"[red]The Q7 demo starts its own Redis and PostgreSQL servers; missing {missing}.[/] "
            "Install them with: apt-get install redis-server postgresql"
        )
        return
    live = run_experiments(list(EXPERIMENTS), QUICK, progress=console.log)
    console.print(results_table(live, "Live, small: one trial of each experiment"))
    committed = committed_figures()
    if committed is None:
        console.print(
            f"No committed figures at {COMMITTED}: run `make bench-replication` for the full-size run."
        )
        return
    figures, provenance = committed
    console.print(comparison_table(live, figures, f"Live vs committed ({provenance})"))


if __name__ == "__main__":
    main()
