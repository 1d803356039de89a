"""``python -m datastores.bench --quick`` measures both stores and writes the figures the issue names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datastores import bench

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("nothing_left_behind")]

STORE_KEYS = {
    "writes_per_s",
    "recent_plays_p50_ms",
    "recent_plays_p99_ms",
    "analytics_ms",
    "bytes_per_million_plays",
    "invariant_violations",
}
REDIS_ONLY = {"analytics_needs", "lost_after_kill9_default", "lost_after_kill9_aof_everysec"}
QUERIES = {"top_tracks_week_country", "users_played_both"}


def test_the_quick_bench_writes_every_figure_with_the_claimed_outcomes(tmp_path: Path) -> None:
    path = bench.main(["--quick", "--results-dir", str(tmp_path)])
    assert path == tmp_path / "datastores.json"
    data = json.loads(path.read_text())
    postgres, redis, naive = data["postgres"], data["redis"], data["redis_naive"]
    assert set(postgres) == STORE_KEYS
    assert set(redis) == STORE_KEYS | REDIS_ONLY
    assert set(naive) == {"invariant_violations"}
    for figures in (postgres, redis):
        assert set(figures["analytics_ms"]) == QUERIES
        assert figures["writes_per_s"] > 0
        assert 0 < figures["recent_plays_p50_ms"] <= figures["recent_plays_p99_ms"]
        assert figures["bytes_per_million_plays"] > 0
        assert figures["invariant_violations"] == 0
    assert set(redis["analytics_needs"]) == QUERIES
    assert naive["invariant_violations"] > 0
    durability = data["durability"]
    assert redis["lost_after_kill9_default"] == durability["default"]["acknowledged"] > 0
    assert redis["lost_after_kill9_aof_everysec"] < durability["aof_everysec"]["acknowledged"] // 2
    assert set(data["recent_plays_bytes_per_user"]) == {"list", "stream", "sorted_set"}
    assert data["meta"]["command"] == "make bench-datastores"
    assert data["meta"]["postgresql"]
    assert data["meta"]["redis"]
