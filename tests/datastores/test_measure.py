"""The benchmark's arithmetic and tables, without servers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rich.console import Console

from datastores.bench import FULL, QUICK, parse_args
from datastores.demo import committed_figures
from datastores.measure import by_worker, per_million, percentile
from datastores.model import Play
from datastores.table import cell, comparison_table, lookup, results_table

pytestmark = pytest.mark.unit

FIGURES = {
    "postgres": {"writes_per_s": 900, "analytics_ms": {"users_played_both": 12.5}, "invariant_violations": 0},
    "redis": {"writes_per_s": 4000, "lost_after_kill9_default": 1234},
    "redis_naive": {"invariant_violations": 7},
}


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([3.0], 99) == 3.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_bytes_are_scaled_to_a_million_plays() -> None:
    assert per_million(250_000, 2_000_000) == 125_000


def test_concurrent_writers_never_reorder_one_users_plays() -> None:
    at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    plays = [Play(user % 7, i, at + dt.timedelta(seconds=i), "SE") for i, user in enumerate(range(100))]
    lanes = by_worker(plays, 4)
    assert sorted(p.track_id for lane in lanes for p in lane) == list(range(100))
    for lane in lanes:
        for user in {p.user_id for p in lane}:
            assert all(user not in {p.user_id for p in other} for other in lanes if other is not lane)
            times = [p.played_at for p in lane if p.user_id == user]
            assert times == sorted(times)


def test_the_table_shows_each_store_and_dashes_where_a_figure_does_not_apply() -> None:
    console = Console(width=200, record=True)
    console.print(results_table(FIGURES, "figures"))
    text = console.export_text()
    for shown in ("4,000", "1,234", "12.5"):
        assert shown in text
    assert lookup(FIGURES, "redis_naive", "writes_per_s") is None
    assert cell(None) == "-"
    assert cell(0.1234) == "0.123"


def test_the_comparison_puts_live_beside_committed() -> None:
    console = Console(width=200, record=True)
    console.print(comparison_table(FIGURES, {"redis_naive": {"invariant_violations": 31}}, "vs"))
    assert "7 / 31" in console.export_text()


def test_committed_figures_are_absent_until_the_benchmark_ran(tmp_path: Path) -> None:
    assert committed_figures(tmp_path / "datastores.json") is None


def test_the_quick_run_is_a_small_version_of_the_full_one() -> None:
    assert QUICK.workload.plays * 50 <= FULL.workload.plays
    assert FULL.kill_window_default_s[1] > 60, "the full run must reach the stock 60 s snapshot rule"
    assert parse_args(["--quick", "--plays", "5"]).plays == 5
