"""PostgreSQL streaming replication, synchronous: no acknowledged commit is lost, and a hung commit is
unknown."""

from __future__ import annotations

import pytest

from replication.audit import CUT, tally
from replication.config import Config
from replication.pg_experiments import pg_sync
from replication.processes import Harness

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("nothing_left_behind")]

CFG = Config(trials=1, writes=200, cut_writes=5, sync_cancel_ms=150)


def test_pg_sync_loses_no_confirmed_commit_and_cancelled_commits_are_committed_locally() -> None:
    with Harness() as harness:
        result = pg_sync(harness, CFG, 0)
    counts = tally(result.records, result.present)
    healthy = [r for r in result.records if r.phase != CUT]
    cut = [r for r in result.records if r.phase == CUT]
    assert counts["lost"] == 0
    assert sum(r.confirmed for r in healthy) > 0
    # with the standby unreachable a synchronous COMMIT hangs until the client cancels it...
    assert all(r.latency_ms >= CFG.sync_cancel_ms for r in cut)
    # ...and the cancel does not roll it back: PostgreSQL says "committed locally", so the client cannot know
    assert all(r.acknowledged and not r.confirmed and r.detail == "committed locally" for r in cut)
    assert not {r.id for r in cut} & result.present, "the promoted standby never received them"
