"""The command line refuses bad arguments clearly; the table, the figure and the demo render from figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from replication import bench, demo
from replication.experiments import EXPERIMENTS, config_from, parser, run_experiments
from replication.table import comparison_table, results_table

pytestmark = pytest.mark.unit

FIGURES: dict[str, dict[str, object]] = {
    "async_failover": {
        "n_trials": 2,
        "attempted": 220,
        "acknowledged": 220,
        "confirmed": 220,
        "lost": 20,
        "refused": 0,
        "unknown": 0,
        "p50_ms": 0.2,
        "p99_ms": 1.1,
        "cut_p50_ms": 0.2,
    },
    "replica_reads": {
        "n_trials": 2,
        "attempted": 100,
        "acknowledged": 100,
        "confirmed": 100,
        "lost": 0,
        "refused": 0,
        "unknown": 0,
        "p50_ms": 0.9,
        "p99_ms": 30.0,
        "reads": 100,
        "stale_reads": 17,
        "lag_p99_ms": 4.2,
    },
}


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--trials", "0"], "must be at least 1"),
        (["--writes", "many"], "not a whole number"),
        (["-e", "nope"], "invalid choice"),
        (["--cut-seconds", "-1"], "must be more than 0"),
    ],
)
def test_bad_arguments_exit_with_a_clear_message(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(argv)
    assert exc.value.code == 2
    assert complaint in capsys.readouterr().err


def test_arguments_become_the_run_configuration() -> None:
    args = parser().parse_args(["-e", "wait", "-e", "pg_sync", "--trials", "2", "--writes", "50"])
    cfg = config_from(args)
    assert args.experiments == ["wait", "pg_sync"]
    assert (cfg.trials, cfg.writes) == (2, 50)


def test_an_unknown_experiment_name_is_refused_before_anything_starts() -> None:
    with pytest.raises(ValueError, match="unknown experiments"):
        run_experiments(["async_failover", "ca_mode"], config_from(parser().parse_args([])))


def test_the_registry_holds_exactly_the_six_experiments_of_the_issue() -> None:
    assert list(EXPERIMENTS) == [
        "async_failover",
        "wait",
        "min_replicas",
        "replica_reads",
        "pg_async",
        "pg_sync",
    ]


def test_the_table_shows_losses_and_stale_reads() -> None:
    console = Console(width=200, record=True)
    console.print(results_table(FIGURES, "t"))
    text = console.export_text()
    assert "async_failover" in text
    assert "20" in text
    assert "stale reads 17/100" in text


def test_the_figure_is_a_png(tmp_path: Path) -> None:
    path = bench.figure(FIGURES, tmp_path / "replication.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_demo_reads_committed_figures_and_sets_them_beside_the_live_ones(tmp_path: Path) -> None:
    committed = tmp_path / "replication.json"
    committed.write_text(
        json.dumps(
            {
                "meta": {"command": "make bench-replication", "date_utc": "D", "cores": 2},
                "experiments": FIGURES,
            }
        )
    )
    loaded = demo.committed_figures(committed)
    assert loaded is not None
    figures, provenance = loaded
    assert "make bench-replication" in provenance
    console = Console(width=200, record=True)
    console.print(
        comparison_table({"async_failover": {**FIGURES["async_failover"], "lost": 3}}, figures, "t")
    )
    assert "3 / 20" in console.export_text()
    assert demo.committed_figures(tmp_path / "absent.json") is None
