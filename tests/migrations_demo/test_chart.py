from __future__ import annotations

from pathlib import Path

import pytest

from migrations_demo.chart import binned_max, plot
from migrations_demo.load import Record

pytestmark = pytest.mark.unit


def rec(start_s: float, latency_ms: float) -> Record:
    return Record(start_s, latency_ms, "read", "v1", ok=True, error=None, args=(1,))


def test_each_bin_shows_its_slowest_request_relative_to_the_migration_start() -> None:
    xs, ys = binned_max([rec(10.01, 3), rec(10.05, 9), rec(10.12, 4), rec(9.95, 2)], origin_s=10.0)
    assert [round(x, 1) for x in xs] == [-0.1, 0.0, 0.1]
    assert ys == [2, 9, 4]


def test_the_chart_is_written_as_a_png(tmp_path: Path) -> None:
    naive = [rec(t / 10, 2000.0 if 50 <= t < 60 else 5.0) for t in range(100)]
    safe = [rec(t / 10, 6.0) for t in range(100)]
    path = plot({"add_index": {"naive": (naive, (5.0, 6.0)), "safe": (safe, (5.0, 8.0))}}, tmp_path / "m.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
