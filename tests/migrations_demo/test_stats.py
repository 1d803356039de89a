from __future__ import annotations

import pytest

from migrations_demo.load import Record
from migrations_demo.stats import RUN_KEYS, median_run, percentile, window_stats

pytestmark = pytest.mark.unit


def record(start_s: float, latency_ms: float, ok: bool = True) -> Record:
    return Record(start_s, latency_ms, "read", "v1", ok=ok, error=None if ok else "timeout", args=(1,))


def test_percentiles_use_the_nearest_rank_of_all_values() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 99) == 0.0
    with pytest.raises(ValueError, match="q must be"):
        percentile(values, 101)


def test_the_window_counts_requests_started_inside_it_and_errors_at_their_latency() -> None:
    records = [record(0.5, 5.0), record(1.0, 10.0), record(1.5, 5000.0, ok=False), record(2.0, 20.0)]
    stats = window_stats(records, 1.0, 2.0)
    assert stats.requests == 2
    assert stats.errors == 1
    assert stats.max_ms == 5000.0
    assert stats.slow_share == 0.5


def summary(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = dict.fromkeys(RUN_KEYS, 1)
    base.update(migration="add_index", mode="safe", checksum_ok=True, lost_writes=0)
    base.update(overrides)
    return base


def test_repeats_reduce_by_median_but_integrity_takes_the_worst_repeat() -> None:
    runs = [
        summary(max_ms=10.0, lost_writes=0, checksum_ok=True),
        summary(max_ms=30.0, lost_writes=2, checksum_ok=True),
        summary(max_ms=20.0, lost_writes=0, checksum_ok=False),
    ]
    out = median_run(runs)
    assert list(out) == list(RUN_KEYS)
    assert out["max_ms"] == 20.0
    assert out["lost_writes"] == 2
    assert out["checksum_ok"] is False
    assert out["repeats"] == 3
    assert out["migration"] == "add_index"
