"""A Redis primary with replicas on free loopback ports, and the faults and failover the experiments need.

Replication in Redis is asynchronous: the primary answers ``OK`` and streams the write to its replicas
afterwards (https://redis.io/docs/latest/operate/oss_and_stack/management/replication/). The replicas reach
the primary through a link proxy (see ``linkproxy.py``), so ``partition()`` cuts the stream cleanly while all
three servers stay up. Failover is what Sentinel does, done by hand so the schedule is deterministic: promote
the replica with the highest replication offset (``REPLICAOF NO ONE``) and point the others at it.

"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from replication.processes import (
    Harness,
    free_port,
    kill_group,
    kill_processes_under,
    pause,
    resume,
    wait_until,
)

START_ATTEMPTS = 3


@dataclass
class RedisNode:
    name: str
    port: int
    workdir: Path
    process: subprocess.Popen[bytes]
    clients: list[redis.Redis] = field(default_factory=list)

    def client(self, timeout: float = 5.0) -> redis.Redis:
        conn = redis.Redis(port=self.port, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.clients.append(conn)
        return conn

    def info(self) -> dict[str, object]:
        conn = redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)
        try:
            return dict(conn.info("replication"))
        finally:
            conn.close()

    def offset(self) -> int:
        return int(str(self.info()["master_repl_offset"]))

    def close_clients(self) -> None:
        for conn in self.clients:
            conn.close()
        self.clients.clear()


def _up_or_exited(proc: subprocess.Popen[bytes], port: int) -> Callable[[], bool]:
    def check() -> bool:
        if proc.poll() is not None:  # e.g. the port was taken: retry on another
            return True
        conn = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(conn.ping())
        finally:
            conn.close()

    return check


def start_redis(harness: Harness, name: str, extra: tuple[str, ...] = ()) -> RedisNode:
    """Start one ``redis-server`` (no persistence: durability here comes from replication alone)."""
    workdir = harness.directory(name)
    for _ in range(START_ATTEMPTS):  # a free port can be taken by someone else before we bind it
        port = free_port()
        args = [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            "",
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
            *extra,
        ]
        proc = harness.spawn(args, cwd=workdir, log=workdir / "redis.log")
        try:
            wait_until(_up_or_exited(proc, port), f"{name} up")
        except TimeoutError:
            kill_group(proc)
            raise
        if proc.poll() is None:
            return RedisNode(name, port, workdir, proc)
    raise RuntimeError(f"could not start {name}: see {workdir / 'redis.log'}")


class RedisCluster:
    """One primary, ``replicas`` replicas, optionally behind a link proxy that a fault can pause."""

    def __init__(
        self,
        harness: Harness,
        replicas: int = 2,
        *,
        link_proxy: bool = True,
        primary_config: tuple[str, ...] = (),
    ) -> None:
        self.harness = harness
        self.primary = start_redis(harness, "primary", primary_config)
        self.proxy: subprocess.Popen[bytes] | None = None
        link_port = self.primary.port
        if link_proxy:
            self.proxy, link_port = harness.start_proxy(self.primary.port)
        self.replicas = [
            start_redis(harness, f"replica{i}", ("--replicaof", "127.0.0.1", str(link_port)))
            for i in range(1, replicas + 1)
        ]
        self.wait_synced()

    def wait_synced(self, timeout: float = 20.0) -> None:
        """Every replica linked and caught up with the primary's replication offset."""

        def synced() -> bool:
            target = self.primary.offset()
            infos = [r.info() for r in self.replicas]
            return all(
                i["master_link_status"] == "up" and int(str(i["master_repl_offset"])) >= target for i in infos
            )

        wait_until(synced, "replicas in sync", timeout=timeout)

    def wait_good_replicas(self, count: int, timeout: float = 10.0) -> None:
        """With min-replicas-to-write set: the primary counts ``count`` replicas as recently acknowledged."""
        wait_until(
            lambda: int(str(self.primary.info().get("min_slaves_good_slaves", 0))) >= count,
            "good replicas",
            timeout=timeout,
        )

    def partition(self) -> None:
        """Cut the primary off from every replica; clients still reach all servers."""
        if self.proxy is None:
            raise RuntimeError("this cluster has no link proxy to cut")
        pause(self.proxy)

    def heal(self) -> None:
        if self.proxy is not None:
            resume(self.proxy)

    def crash_primary(self) -> None:
        """``kill -9`` the primary: whatever it did not stream yet is gone with it."""
        self.primary.close_clients()
        kill_group(self.primary.process)
        kill_processes_under(self.primary.workdir)

    def promote_best(self) -> RedisNode:
        """Sentinel's choice by hand: the replica that has seen most of the stream becomes primary."""
        best = max(self.replicas, key=lambda r: r.offset())
        best.client().replicaof("NO", "ONE")
        for other in self.replicas:
            if other is not best:
                other.client().replicaof("127.0.0.1", best.port)
        return best

    def close_clients(self) -> None:
        for node in (self.primary, *self.replicas):
            node.close_clients()
