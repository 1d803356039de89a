"""The audit's bookkeeping: every write lands in one outcome, and only confirmed writes can be lost."""

from __future__ import annotations

import pytest

from replication.audit import TrialResult, lost_ids, percentile, summarise, tally
from replication.workload import WriteRecord

pytestmark = pytest.mark.unit


def record(
    write_id: str,
    *,
    acked: bool = True,
    confirmed: bool = True,
    refused: bool = False,
    phase: str = "healthy",
    ms: float = 1.0,
) -> WriteRecord:
    return WriteRecord(write_id, phase, acked, confirmed, refused, ms)


def test_every_attempted_write_is_exactly_one_of_confirmed_refused_or_unknown() -> None:
    records = [
        record("a"),
        record("b", confirmed=False),
        record("c", acked=False, confirmed=False, refused=True),
        record("d", acked=False, confirmed=False),
    ]
    counts = tally(records, present={"a", "b"})
    assert counts["attempted"] == 4
    assert counts["confirmed"] + counts["refused"] + counts["unknown"] == counts["attempted"]
    assert (counts["confirmed"], counts["refused"], counts["unknown"], counts["acknowledged"]) == (1, 1, 2, 2)


def test_a_confirmed_write_missing_after_failover_is_lost_but_an_unknown_one_is_not() -> None:
    records = [record("kept"), record("gone"), record("maybe", confirmed=False, phase="cut")]
    counts = tally(records, present={"kept"})
    assert counts["lost"] == 1
    assert counts["acknowledged_lost"] == 2
    assert counts["unknown_survived"] == 0
    assert lost_ids(records, {"kept"}) == ["gone"]


def test_an_unknown_write_that_survived_is_counted_as_such() -> None:
    counts = tally([record("t", acked=False, confirmed=False)], present={"t"})
    assert (counts["unknown"], counts["unknown_survived"], counts["lost"]) == (1, 1, 0)


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_summary_sums_counts_over_trials_and_pools_latency_outside_the_cut() -> None:
    first = TrialResult([record("a", ms=1.0), record("b", ms=500.0, phase="cut")], present={"a"})
    second = TrialResult([record("c", ms=3.0)], present=set())
    summary = summarise([first, second])
    assert (summary["attempted"], summary["lost"], summary["n_trials"]) == (3, 2, 2)
    assert summary["p99_ms"] == 3.0, "the cut write's 500 ms is not steady-state latency"
    assert summary["cut_p50_ms"] == 500.0
    assert [t["lost"] for t in summary["trials"]] == [1, 1]  # type: ignore[attr-defined]


def test_replica_read_figures_report_stale_reads_and_lag() -> None:
    trial = TrialResult([record("a")], present={"a"}, lags_ms=[0.0, 0.0, 2.0, 9.0], stale_reads=2)
    summary = summarise([trial], reads=True)
    assert (summary["reads"], summary["stale_reads"], summary["stale_rate"]) == (4, 2, 0.5)
    assert summary["lag_p99_ms"] == 9.0
