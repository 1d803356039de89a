"""Run the CAP experiments and print what each one lost, refused and left unknown.

``python -m replication.experiments [-e NAME ...] [--trials N] [--writes N] [--cut-writes N] [--cut-seconds
S]`` Every trial starts its own servers in a fresh harness, so one trial's faults never leak into the next,
and everything is removed afterwards even when a trial fails.

"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from replication import pg_experiments, redis_experiments
from replication.audit import TrialResult, summarise
from replication.config import Config
from replication.processes import Harness, install_signal_cleanup
from replication.table import results_table, wide_console

Trial = Callable[[Harness, Config, int], TrialResult]

EXPERIMENTS: dict[str, Trial] = {
    "async_failover": redis_experiments.async_failover,
    "wait": redis_experiments.wait,
    "min_replicas": redis_experiments.min_replicas,
    "replica_reads": redis_experiments.replica_reads,
    "pg_async": pg_experiments.pg_async,
    "pg_sync": pg_experiments.pg_sync,
}
REQUIRED_BINARIES = {"redis": ("redis-server", "redis-benchmark"), "pg": ("initdb", "pg_basebackup")}


def missing_binaries() -> list[str]:
    """Server programs the experiments need and this machine lacks (empty when all are there)."""
    from replication.pg_cluster import postgres_bindir  # noqa: PLC0415 - avoid raising at import

    missing = [b for b in REQUIRED_BINARIES["redis"] if shutil.which(b) is None]
    try:
        bindir = postgres_bindir()
    except FileNotFoundError:
        return [*missing, *REQUIRED_BINARIES["pg"]]
    return missing + [b for b in REQUIRED_BINARIES["pg"] if not (bindir / b).exists()]


def run_experiment(
    name: str, cfg: Config, progress: Callable[[str], None] | None = None
) -> dict[str, object]:
    trials = []
    for trial in range(cfg.trials):
        if progress:
            progress(f"{name}: trial {trial + 1}/{cfg.trials}")
        with Harness() as harness:
            trials.append(EXPERIMENTS[name](harness, cfg, trial))
    return summarise(trials, reads=name == "replica_reads")


def run_experiments(
    names: Sequence[str], cfg: Config, progress: Callable[[str], None] | None = None
) -> dict[str, dict[str, object]]:
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiments {unknown}; choose from {list(EXPERIMENTS)}")
    return {name: run_experiment(name, cfg, progress) for name in names}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def parser(prog: str = "python -m replication.experiments") -> argparse.ArgumentParser:
    defaults = Config()
    p = argparse.ArgumentParser(
        prog=prog, description="CAP measured on real Redis and PostgreSQL replication."
    )
    p.add_argument(
        "-e",
        "--experiment",
        action="append",
        choices=list(EXPERIMENTS),
        dest="experiments",
        help="run only this experiment (repeatable; default: all)",
    )
    p.add_argument("--trials", type=_positive_int, default=defaults.trials)
    p.add_argument("--writes", type=_positive_int, default=defaults.writes, help="writes while healthy")
    p.add_argument(
        "--cut-writes", type=_positive_int, default=defaults.cut_writes, help="writes during the partition"
    )
    p.add_argument(
        "--cut-seconds",
        type=_positive_float,
        default=defaults.cut_seconds,
        help="min_replicas: spread the cut writes over this long",
    )
    p.add_argument("--reads", type=_positive_int, default=defaults.reads, help="replica_reads probes")
    p.add_argument(
        "--ack-log-dir", type=Path, default=None, help="keep each trial's acknowledgement log here"
    )
    return p


def config_from(args: argparse.Namespace) -> Config:
    return Config(
        trials=args.trials,
        writes=args.writes,
        cut_writes=args.cut_writes,
        cut_seconds=args.cut_seconds,
        reads=args.reads,
        ack_log_dir=args.ack_log_dir,
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    console = wide_console()
    if missing := missing_binaries():
        parser().error(f"missing server programs {missing}: apt-get install redis-server postgresql")
    install_signal_cleanup()
    cfg = config_from(args)
    results = run_experiments(args.experiments or list(EXPERIMENTS), cfg, progress=console.log)
    console.print(results_table(results, f"CAP on real replication ({cfg.trials} trial(s) each)"))


if __name__ == "__main__":
    main()
