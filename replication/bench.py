"""``make bench-replication``: every experiment, several trials, into ``results/replication.json`` and
``.png``.

``--quick`` runs one small trial of each and writes into a temp folder (or ``--results-dir``), never
``results/``.

"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from observability.results import write_results
from replication.config import QUICK, Config
from replication.experiments import EXPERIMENTS, missing_binaries, run_experiments
from replication.pg_cluster import postgres_bindir
from replication.processes import install_signal_cleanup
from replication.table import results_table, wide_console

TOPIC = "replication"
COMMAND = "make bench-replication"
OUTCOMES = (
    ("confirmed", "tab:green"),
    ("lost", "tab:red"),
    ("unknown", "tab:orange"),
    ("refused", "tab:gray"),
)


def server_versions() -> dict[str, str]:
    """Versions of the server binaries the harness started (not of any shared server)."""

    def version(args: list[str], pattern: str) -> str:
        out = subprocess.run(args, capture_output=True, text=True, check=False, timeout=10).stdout
        match = re.search(pattern, out)
        return match.group(1) if match else "unknown"

    return {
        "redis": version(["redis-server", "--version"], r"v=(\S+)"),
        "postgresql": version([str(postgres_bindir() / "postgres"), "--version"], r"(\d+(?:\.\d+)+)"),
    }


def figure(experiments: Mapping[str, Mapping[str, object]], path: Path) -> Path:
    """Left: what happened to the writes per experiment; right: write latency while healthy."""
    names = list(experiments)
    fig = Figure(figsize=(13, 5))  # the object API needs no GUI backend (servers, CI)
    outcomes, latency = fig.subplots(1, 2)
    width = 0.8 / len(OUTCOMES)
    for i, (key, colour) in enumerate(OUTCOMES):
        xs = [n + (i - 1.5) * width for n in range(len(names))]
        values = [float(str(experiments[name].get(key) or 0)) for name in names]
        outcomes.bar(xs, values, width, label=key, color=colour)
    outcomes.set_yscale("symlog")
    outcomes.set_xticks(range(len(names)), names, rotation=20)
    outcomes.set_ylabel("writes (all trials)")
    outcomes.set_title("Writes by outcome after failover (lost = confirmed, then gone)")
    outcomes.legend()
    for i, key in enumerate(("p50_ms", "p99_ms")):
        values = [float(str(experiments[name].get(key) or 0)) for name in names]
        latency.bar(
            [n + (i - 0.5) * 0.4 for n in range(len(names))], values, 0.4, label=key.replace("_ms", "")
        )
    latency.set_yscale("log")
    latency.set_xticks(range(len(names)), names, rotation=20)
    latency.set_ylabel("write latency while healthy (ms)")
    latency.set_title("The price of the guarantee (PACELC: else latency)")
    latency.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m replication.bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="one small trial each, into a temp folder")
    p.add_argument("--results-dir", type=Path, default=None, help="where to write (default: results/)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> Path:
    args = parse_args(argv)
    if missing := missing_binaries():
        raise SystemExit(f"missing server programs {missing}: apt-get install redis-server postgresql")
    install_signal_cleanup()
    cfg: Config = QUICK if args.quick else Config()
    results_dir = args.results_dir
    if results_dir is None and args.quick:
        results_dir = Path(tempfile.mkdtemp(prefix="q07-bench-"))
    console = wide_console()
    experiments = run_experiments(list(EXPERIMENTS), cfg, progress=console.log)
    path = write_results(
        TOPIC,
        {"config": cfg.as_dict(), "servers": server_versions(), "experiments": experiments},
        command=COMMAND,
        results_dir=results_dir,
    )
    figure(experiments, path.with_suffix(".png"))
    console.print(results_table(experiments, f"CAP on real replication ({cfg.trials} trial(s) each)"))
    console.print(f"wrote {path} and {path.with_suffix('.png')}")
    return path


if __name__ == "__main__":
    main()
