"""Live runs on a small table: what clients see while each kind of migration runs (seconds each)."""

from __future__ import annotations

from collections import Counter

import pytest

from migrations_demo.harness import RunConfig, RunResult, run_once
from migrations_demo.locks import LockPolicy

pytestmark = pytest.mark.integration

SMALL = {"rows": 1000, "rate": 80.0, "baseline_s": 1.0, "tail_s": 0.3, "deploy_lag_s": 0.6}


async def run(database_url: str, migration: str, mode: str, **overrides: object) -> RunResult:
    return await run_once(RunConfig(migration, mode, database_url=database_url, **{**SMALL, **overrides}))  # type: ignore[arg-type]


def in_window(result: RunResult) -> list[tuple[str, bool]]:
    start, end = result.window
    return [(r.version, r.ok) for r in result.records if start <= r.start_s < end]


async def test_the_expand_contract_rename_keeps_v1_and_v2_clients_working_throughout(
    database_url: str,
) -> None:
    result = await run(database_url, "rename_column", "safe")
    assert result.migration_error is None
    served = Counter(version for version, ok in in_window(result) if ok)
    failed = [r for r in result.records if not r.ok]
    assert not failed, failed[:3]
    assert served["v1"] > 0
    assert served["v2"] > 0
    assert served["v3"] > 0
    assert result.audit.ok, result.audit  # v1's writes to ms_played are all readable as played_ms


async def test_the_one_step_rename_breaks_the_clients_still_running_the_old_code(database_url: str) -> None:
    result = await run(database_url, "rename_column", "naive")
    failed = [r for r in result.records if not r.ok]
    assert failed, "v1 clients should fail while the deploy of v3 rolls out"
    assert {r.version for r in failed} == {"v1"}
    assert all(r.error and r.error.startswith("42703") for r in failed)  # undefined column
    assert result.audit.lost_writes == 0  # they failed loudly: nothing acknowledged was lost


async def test_with_an_adversary_the_safe_migration_retries_and_clients_never_wait_behind_it(
    database_url: str,
) -> None:
    policy = LockPolicy(lock_timeout_ms=200, attempts=40, retry_base_s=0.05, retry_max_s=0.3)
    result = await run(database_url, "add_check", "safe", adversary_s=1.5, policy=policy)
    assert result.migration_error is None
    assert result.lock_events, "the migration hit lock_timeout while the adversary held its lock"
    assert result.during.errors == 0
    assert result.during.max_ms < 1000  # bounded by lock_timeout, not by the adversary's 1.5 s
    assert result.audit.ok


async def test_with_an_adversary_the_naive_migration_stalls_clients_for_as_long_as_the_adversary_runs(
    database_url: str,
) -> None:
    result = await run(database_url, "add_check", "naive", adversary_s=1.5)
    assert result.migration_error is None
    assert result.during.max_ms >= 1000  # queued behind the DDL, which queued behind the adversary
    assert result.longest_wait is not None
    assert result.longest_wait.wait_ms >= 1000
    assert result.audit.ok
