"""The benchmark end to end in its --quick mode: the keys the answers cite, and the counted targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ratelimit.decision import ALGORITHMS

METRICS = {
    "decisions_per_s",
    "p50_us",
    "p99_us",
    "redis_roundtrips_per_decision",
    "redis_commands_per_decision",
}


@pytest.mark.integration
def test_the_quick_benchmark_writes_every_figure_and_counts_one_script_call_per_decision(
    tmp_path: Path,
) -> None:
    """Runs as a subprocess: the bench pins itself to a core and starts its own redis-server."""
    subprocess.run(
        [sys.executable, "-m", "ratelimit.bench", "--quick", "--results-dir", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    results = json.loads((tmp_path / "ratelimit.json").read_text())

    assert set(results["algorithms"]) == set(ALGORITHMS)
    assert set(results["anchor_limits"]) == {"fixed_window", "sliding_window_log", "sliding_window_counter"}
    for table in (results["algorithms"], results["anchor_limits"]):
        for figures in table.values():
            assert set(figures) == METRICS
            assert figures["decisions_per_s"] > 0
            assert 0 < figures["p50_us"] <= figures["p99_us"]
    assert results["ceiling_evalsha_per_s"] > 0
    assert results["concurrency"] == 50
    assert set(results["ratios"]["vs_anchor"]) == set(results["anchor_limits"])
    assert set(results["ratios"]["vs_ceiling"]) == set(ALGORITHMS)
    assert results["meta"]["command"] == "make bench-ratelimit"

    # the counted targets hold even in a tiny run: exactly one script call, at most one round trip
    for algorithm, figures in results["algorithms"].items():
        assert figures["redis_commands_per_decision"] == 1, algorithm
        assert results["server_counts"]["ours"][algorithm]["script_calls_per_decision"] == 1, algorithm
        assert figures["redis_roundtrips_per_decision"] <= 1, algorithm
    assert results["targets"]["one_script_call_per_decision"]
    assert results["targets"]["at_most_one_roundtrip_per_decision"]
