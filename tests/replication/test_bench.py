"""``python -m replication.bench --quick`` runs every experiment and writes the results and the figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replication import bench

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("nothing_left_behind")]

KEYS = {"attempted", "acknowledged", "confirmed", "lost", "refused", "unknown", "p50_ms", "p99_ms"}


def test_the_quick_bench_writes_every_experiment_with_the_issue_keys(tmp_path: Path) -> None:
    path = bench.main(["--quick", "--results-dir", str(tmp_path)])
    data = json.loads(path.read_text())
    experiments = data["experiments"]
    assert list(experiments) == [
        "async_failover",
        "wait",
        "min_replicas",
        "replica_reads",
        "pg_async",
        "pg_sync",
    ]
    for name, figures in experiments.items():
        assert set(figures) >= KEYS, name
        outcomes = figures["confirmed"] + figures["refused"] + figures["unknown"]
        assert outcomes == figures["attempted"], name
    assert {"stale_reads", "lag_p99_ms"} <= set(experiments["replica_reads"])
    assert experiments["async_failover"]["lost"] > 0
    assert experiments["pg_async"]["lost"] > 0
    assert experiments["wait"]["lost"] == 0
    assert experiments["pg_sync"]["lost"] == 0
    assert data["meta"]["command"] == "make bench-replication"
    assert (tmp_path / "replication.png").read_bytes().startswith(b"\x89PNG")
