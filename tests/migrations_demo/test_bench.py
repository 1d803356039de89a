"""The benchmark's code path at smoke size, into a temp folder: the results have exactly the issue's keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from migrations_demo import bench, demo
from migrations_demo.stats import RUN_KEYS

pytestmark = pytest.mark.integration


def test_the_quick_bench_writes_one_run_per_migration_and_mode_with_exactly_the_issue_s_keys(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    path = bench.main(["--quick", "--migrations", "add_index", "--results-dir", str(tmp_path)])
    assert path == tmp_path / "migrations.json"
    data = json.loads(path.read_text())
    assert data["meta"]["command"] == "make bench-migrations"
    assert [(r["migration"], r["mode"]) for r in data["runs"]] == [
        ("add_index", "safe"),
        ("add_index", "naive"),
    ]
    for run in data["runs"]:
        assert list(run) == list(RUN_KEYS)
        assert run["repeats"] == 1
        assert run["lost_writes"] == 0
        assert run["checksum_ok"] is True
    png = tmp_path / "migrations.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_demo_prints_live_figures_beside_the_committed_ones(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    console = Console(record=True, width=200)
    live = demo.run(("add_check",), rows=500, rate=40, baseline_s=0.5, console=console)
    assert [(r["migration"], r["mode"]) for r in live] == [("add_check", "safe"), ("add_check", "naive")]
    text = console.export_text()
    assert "max_ms live" in text
    assert "max_ms full" in text
