"""The benchmark's whole path on small data: seed, v1 at 0001, upgrade, v2, plans, chart, results keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.targets import ENDPOINTS

pytestmark = pytest.mark.load

FIGURES = {"p50_ms", "p95_ms", "p99_ms", "rps", "queries_per_request", "bytes"}


def test_the_quick_bench_writes_every_figure_the_answer_quotes_and_no_5xx(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    result = subprocess.run(
        [sys.executable, "-m", "catalog.bench", "--quick", "--results-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads((tmp_path / "catalog.json").read_text())
    for name in ENDPOINTS:
        for version in ("v1", "v2"):
            figures = data["endpoints"][name][version]
            assert set(figures) >= FIGURES, (name, version, figures)
            assert figures["errors"] == 0, "Locust's thresholds passed and no request failed"
            assert figures["requests"] > 0
    playlist = data["endpoints"]["playlist"]
    assert playlist["v1"]["queries_per_request"] > 100
    assert playlist["v2"]["queries_per_request"] <= 2
    assert data["endpoints"]["deep_page"]["v2"]["queries_per_request"] == 1
    assert data["techniques"]["etag"]["not_modified_bytes"] == 0
    assert data["techniques"]["gzip"]["gzip_bytes"] < data["techniques"]["gzip"]["identity_bytes"]
    assert (tmp_path / "catalog.png").stat().st_size > 10_000
    plans = {p.name for p in (tmp_path / "catalog_plans").iterdir()}
    assert {
        "deep_page_before.txt",
        "deep_page_after.txt",
        "playlist_before.txt",
        "playlist_after.txt",
    } <= plans
    assert "Index Cond" in (tmp_path / "catalog_plans" / "deep_page_after.txt").read_text()
    assert "Sort" in (tmp_path / "catalog_plans" / "deep_page_before.txt").read_text()
