"""Redis under a partition and a failover, on real servers: what async replication, WAIT, min-replicas buy."""

from __future__ import annotations

import pytest

from replication.audit import CUT, lost_ids, tally
from replication.config import Config
from replication.processes import Harness
from replication.redis_experiments import async_failover, min_replicas, wait

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("nothing_left_behind")]

CFG = Config(trials=2, writes=200, cut_writes=10)
# min-replicas-max-lag is checked once a second on whole seconds: refusals start 1-3 s into the cut
MIN_REPLICAS_CFG = Config(trials=1, writes=200, cut_writes=20, cut_seconds=4.0)


@pytest.mark.parametrize("trial", range(CFG.trials))
def test_async_failover_loses_exactly_the_writes_acknowledged_during_the_cut(trial: int) -> None:
    """Every write got OK; the ones the replicas never saw vanish when a replica is promoted."""
    with Harness() as harness:
        result = async_failover(harness, CFG, trial)
    counts = tally(result.records, result.present)
    assert counts["acknowledged"] == counts["attempted"] == CFG.writes + CFG.cut_writes
    assert counts["lost"] == CFG.cut_writes > 0
    assert set(lost_ids(result.records, result.present)) == {r.id for r in result.records if r.phase == CUT}


@pytest.mark.parametrize("trial", range(CFG.trials))
def test_wait_loses_no_confirmed_write_and_the_cut_writes_end_unknown(trial: int) -> None:
    """WAIT 1 returned >= 1 for a write => it survived; during the cut WAIT returns 0 after its timeout."""
    with Harness() as harness:
        result = wait(harness, CFG, trial)
    counts = tally(result.records, result.present)
    cut = [r for r in result.records if r.phase == CUT]
    assert counts["lost"] == 0
    assert counts["confirmed"] > 0
    assert all(r.acknowledged and r.outcome == "unknown" and r.detail == "replicas=0" for r in cut)
    assert all(r.latency_ms >= CFG.wait_timeout_ms * 0.9 for r in cut), "WAIT blocks for its timeout"
    assert not {r.id for r in cut} & result.present, "acknowledged by the primary, yet gone: hence 'unknown'"


def test_min_replicas_refuses_writes_during_the_cut_and_bounds_the_loss() -> None:
    """Past min-replicas-max-lag with no replica ACK, the primary says NOREPLICAS; only earlier writes die."""
    with Harness() as harness:
        result = min_replicas(harness, MIN_REPLICAS_CFG, 0)
    refused = [r for r in result.records if r.refused]
    assert refused, "the isolated primary kept accepting writes"
    assert all(r.phase == CUT and r.detail.startswith("NOREPLICAS") for r in refused)
    assert not {r.id for r in refused} & result.present
    first_refusal = result.records.index(refused[0])
    assert all(
        result.records.index(r) < first_refusal
        for r in result.records
        if r.outcome == "confirmed" and r.id not in result.present
    ), "a write accepted after the refusals began was lost"
    assert 0 < tally(result.records, result.present)["lost"] < MIN_REPLICAS_CFG.cut_writes
