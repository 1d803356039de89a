"""The four Redis schedules. Each trial gets fresh servers; the harness removes them afterwards.

The failover schedule (Jepsen's Redis finding, made deterministic): write while healthy, wait until the
replicas have everything, cut the primary off from its replicas, keep writing to the primary (clients can
still reach it), ``kill -9`` the primary, promote the most up-to-date replica, heal, and audit every id on the
new primary. ``WAIT`` makes the client *know* which writes reached a replica, it does not stop the loss ("WAIT
does not make Redis a strongly consistent store", https://redis.io/docs/latest/commands/wait/).
``min-replicas-to-write`` makes the isolated primary refuse writes once its replicas are silent for longer
than ``min-replicas-max-lag``: availability given up to bound the loss to that window.

"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import redis

from replication.audit import CUT, TrialResult
from replication.config import Config
from replication.processes import Harness, kill_group
from replication.redis_cluster import RedisCluster, RedisNode
from replication.workload import WriteLog, redis_key, redis_write

HEALTHY = "healthy"
LOAD = "load"
VISIBILITY_TIMEOUT_S = 2.0


def _ids(name: str, trial: int) -> Iterator[str]:
    return (f"{name}-{trial}-{seq:06d}" for seq in itertools.count())


def present_ids(node: RedisNode, ids: list[str], chunk: int = 1000) -> set[str]:
    """The subset of ``ids`` whose key exists on ``node``."""
    client = node.client()
    found: set[str] = set()
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        pipe = client.pipeline(transaction=False)
        for write_id in part:
            pipe.exists(redis_key(write_id))
        found.update(i for i, hit in zip(part, pipe.execute(), strict=True) if hit)
    return found


def _failover_trial(
    harness: Harness, cfg: Config, name: str, trial: int, *, wait: bool = False, min_replicas: bool = False
) -> TrialResult:
    primary_config: tuple[str, ...] = ()
    if min_replicas:
        primary_config = ("--min-replicas-to-write", "1", "--min-replicas-max-lag", str(cfg.max_lag_s))
    cluster = RedisCluster(harness, replicas=2, primary_config=primary_config)
    if min_replicas:
        cluster.wait_good_replicas(2)
    client = cluster.primary.client(timeout=5.0)
    payload = b"x" * cfg.payload_bytes
    wait_ms = cfg.wait_timeout_ms if wait else None
    ids, log = _ids(name, trial), WriteLog()
    for _ in range(cfg.writes):
        log.add(redis_write(client, next(ids), HEALTHY, payload, wait_timeout_ms=wait_ms))
    cluster.wait_synced()  # so the only writes at risk are the ones sent during the cut
    cluster.partition()
    # min_replicas spreads the cut writes past max-lag, so we see both the accepted window and the refusals
    interval = cfg.cut_seconds / cfg.cut_writes if min_replicas else 0.0
    cut_started = time.monotonic()
    for n in range(cfg.cut_writes):
        _sleep_until(cut_started + n * interval)
        log.add(redis_write(client, next(ids), CUT, payload, wait_timeout_ms=wait_ms))
    cluster.crash_primary()
    new_primary = cluster.promote_best()
    cluster.heal()
    present = present_ids(new_primary, log.ids())
    cluster.close_clients()
    _dump(cfg, name, trial, log)
    return TrialResult(log.records, present)


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _dump(cfg: Config, name: str, trial: int, log: WriteLog) -> None:
    if cfg.ack_log_dir is not None:
        cfg.ack_log_dir.mkdir(parents=True, exist_ok=True)
        log.dump(cfg.ack_log_dir / f"{name}-{trial}.jsonl")


def async_failover(harness: Harness, cfg: Config, trial: int) -> TrialResult:
    return _failover_trial(harness, cfg, "async_failover", trial)


def wait(harness: Harness, cfg: Config, trial: int) -> TrialResult:
    return _failover_trial(harness, cfg, "wait", trial, wait=True)


def min_replicas(harness: Harness, cfg: Config, trial: int) -> TrialResult:
    return _failover_trial(harness, cfg, "min_replicas", trial, min_replicas=True)


def _visible_after(replica: redis.Redis, key: str, acked_at: float) -> tuple[bool, float]:
    """(stale, lag_ms): was the first read stale, and how long after the ack the replica first had the key."""
    first = True
    while True:
        asked_at = time.perf_counter()
        if replica.exists(key):
            return not first, 0.0 if first else (asked_at - acked_at) * 1000.0
        first = False
        if asked_at - acked_at > VISIBILITY_TIMEOUT_S:
            return True, (asked_at - acked_at) * 1000.0


def replica_reads(harness: Harness, cfg: Config, trial: int) -> TrialResult:
    """Read-your-writes from a replica while ``redis-benchmark`` loads the primary: stale rate and lag."""
    cluster = RedisCluster(harness, replicas=2, link_proxy=False)
    load_dir = harness.directory("load")
    load = harness.spawn(
        [
            "redis-benchmark",
            "-p",
            str(cluster.primary.port),
            "-t",
            "set",
            "-d",
            "1024",
            "-r",
            "10000",
            "-n",
            "1000000000",
            "-c",
            "4",
            "-P",
            "8",
            "-q",
        ],
        cwd=load_dir,
        log=load_dir / "benchmark.log",
    )
    try:
        client = cluster.primary.client()
        replicas = [r.client() for r in cluster.replicas]
        payload = b"x" * cfg.payload_bytes
        ids, log, lags, stale = _ids("replica_reads", trial), WriteLog(), [], 0
        time.sleep(0.2)  # let the load reach a steady state
        for n in range(cfg.reads):
            record = log.add(redis_write(client, next(ids), LOAD, payload))
            if not record.acknowledged:
                continue
            was_stale, lag = _visible_after(
                replicas[n % len(replicas)], redis_key(record.id), time.perf_counter()
            )
            stale += was_stale
            lags.append(lag)
    finally:
        kill_group(load)
    present = present_ids(cluster.primary, log.ids())
    cluster.close_clients()
    _dump(cfg, "replica_reads", trial, log)
    return TrialResult(log.records, present, lags_ms=lags, stale_reads=stale)
