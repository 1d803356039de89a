"""``python -m gateway.bench --quick``: the whole benchmark on small data, into a temp folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import bench

pytestmark = pytest.mark.load


def test_a_quick_run_measures_both_paths_and_the_open_breaker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Behaviour, not speed: both paths answer without errors, every breaker-phase call is a rejection."""
    bench.main(["--quick", "--results-dir", str(tmp_path)])
    data = json.loads((tmp_path / "gateway.json").read_text())
    for key in ("direct_rps", "direct_p99_ms", "gateway_rps", "gateway_p99_ms", "breaker_open_p99_ms"):
        assert data[key] > 0, key
    assert data["meta"]["command"] == "make bench-gateway"
    assert len(data["rounds"]["direct"]) == len(data["rounds"]["gateway"]) == 1
    assert data["hop_p99_ms"] == pytest.approx(data["gateway_p99_ms"] - data["direct_p99_ms"], abs=0.02)
    assert "wrote" in capsys.readouterr().out
