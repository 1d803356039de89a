"""``answers demo 3`` runs a live version and prints it beside the committed figures, without writing them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datastores import WorkloadSpec, demo
from datastores.bench import BenchConfig
from datastores.invariant import InvariantSpec
from observability.results import RESULTS_DIR

TINY = BenchConfig(
    workload=WorkloadSpec(plays=3_000, users=300, tracks=500),
    timed_writes=200,
    write_concurrency=4,
    recent_reads=50,
    analytics_repeats=2,
    invariant=InvariantSpec(playlists=3, users=15, operations=300, concurrency=16),
    kill_window_default_s=(0.3, 0.5),
    kill_window_aof_s=(0.3, 0.5),
    structure_users=50,
)


@pytest.mark.integration
@pytest.mark.usefixtures("nothing_left_behind")
def test_the_demo_prints_live_figures_beside_the_committed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    committed = tmp_path / "datastores.json"
    committed.write_text(
        json.dumps(
            {"meta": {"command": "make bench-datastores"}, "redis_naive": {"invariant_violations": 987}}
        )
    )
    monkeypatch.setattr(demo, "LIVE", TINY)
    monkeypatch.setattr(demo, "COMMITTED", committed)
    results_before = set(RESULTS_DIR.glob("*")) if RESULTS_DIR.exists() else set()
    demo.main()
    out = capsys.readouterr().out
    assert "Live, small: 3,000 plays" in out
    assert "Live vs committed (make bench-datastores" in out
    assert " / 987" in out
    assert (set(RESULTS_DIR.glob("*")) if RESULTS_DIR.exists() else set()) == results_before


@pytest.mark.unit
def test_the_demo_explains_what_is_missing_when_postgresql_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    demo.main()
    assert "needs PostgreSQL" in capsys.readouterr().out
