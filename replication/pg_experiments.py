"""The two PostgreSQL schedules: the same client, the same faults, async vs synchronous streaming replication.

Healthy commits, standby caught up, then the standby becomes unreachable while the client keeps committing
with a client-side timeout. Asynchronous: those commits return at once and are lost when the primary is killed
and the standby promoted. Synchronous: they hang until the client gives up; cancelling does not roll back,
PostgreSQL warns that the transaction "has already committed locally, but might not have been replicated to
the standby" (https://www.postgresql.org/docs/15/warm-standby.html#SYNCHRONOUS-REPLICATION-HA), so the client
must treat it as unknown. No commit the client saw succeed is lost.

"""

from __future__ import annotations

import itertools

from replication.audit import CUT, TrialResult
from replication.config import Config
from replication.pg_cluster import PgCluster
from replication.processes import Harness
from replication.workload import PgWriter, WriteLog

HEALTHY = "healthy"


def _pg_trial(harness: Harness, cfg: Config, name: str, trial: int, *, synchronous: bool) -> TrialResult:
    cluster = PgCluster(harness, synchronous=synchronous)
    writer = PgWriter(cluster.primary.connect(), timeout_s=cfg.sync_cancel_ms / 1000.0)
    payload = "x" * cfg.payload_bytes
    ids, log = (f"{name}-{trial}-{seq:06d}" for seq in itertools.count()), WriteLog()
    try:
        for _ in range(cfg.writes):
            log.add(writer.write(next(ids), HEALTHY, payload))
        cluster.wait_caught_up()
        cluster.partition()
        for _ in range(cfg.cut_writes):
            log.add(writer.write(next(ids), CUT, payload))
        cluster.crash_primary()
    finally:
        writer.close()
    new_primary = cluster.promote_standby()
    cluster.heal()
    with new_primary.connect() as conn:
        present = {str(row[0]) for row in conn.execute("SELECT id FROM writes")}
    if cfg.ack_log_dir is not None:
        cfg.ack_log_dir.mkdir(parents=True, exist_ok=True)
        log.dump(cfg.ack_log_dir / f"{name}-{trial}.jsonl")
    return TrialResult(log.records, present)


def pg_async(harness: Harness, cfg: Config, trial: int) -> TrialResult:
    return _pg_trial(harness, cfg, "pg_async", trial, synchronous=False)


def pg_sync(harness: Harness, cfg: Config, trial: int) -> TrialResult:
    return _pg_trial(harness, cfg, "pg_sync", trial, synchronous=True)
