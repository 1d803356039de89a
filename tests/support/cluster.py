"""A throwaway Redis Cluster: three primaries from local ``redis-server`` processes on free loopback ports.

``redis-cli --cluster create`` assigns the 16384 slots; we wait until every node reports ``cluster_state:ok``
and knows all the others, so a client's first ``CLUSTER SLOTS`` sees the final layout. The context manager
always stops every process it started and removes their temp folders, even when the start fails half way.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support.servers import START_TIMEOUT_S, PrivateRedis, free_port


@dataclass(frozen=True)
class PrivateCluster:
    nodes: tuple[PrivateRedis, ...]

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", node.port) for node in self.nodes]

    @property
    def url(self) -> str:
        """Any node's URL: a cluster client discovers the others from it."""
        return self.nodes[0].url


def _node_ready(port: int, primaries: int) -> bool:
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1, decode_responses=True)
    try:
        info = client.cluster("INFO")  # redis-py parses the text into a dict
    finally:
        client.close()
    return (
        str(info.get("cluster_state")) == "ok"
        and str(info.get("cluster_slots_ok")) == "16384"
        and str(info.get("cluster_known_nodes")) == str(primaries)
    )


def _wait_for_cluster(ports: list[int], primaries: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError):
            if all(_node_ready(port, primaries) for port in ports):
                return
        time.sleep(0.1)
    raise TimeoutError(
        f"Redis Cluster on ports {ports} did not reach cluster_state:ok in {START_TIMEOUT_S:.0f}s"
    )


@contextlib.contextmanager
def redis_cluster(primaries: int = 3) -> Iterator[PrivateCluster]:
    root = Path(tempfile.mkdtemp(prefix="private-redis-cluster-"))
    nodes: list[PrivateRedis] = []
    try:
        for _ in range(primaries):
            port, bus_port = free_port(), free_port()
            workdir = root / str(port)
            workdir.mkdir()
            node = PrivateRedis(
                workdir,
                port,
                (
                    "--cluster-enabled",
                    "yes",
                    "--cluster-port",
                    str(bus_port),
                    "--cluster-config-file",
                    str(workdir / "nodes.conf"),
                    "--cluster-node-timeout",
                    "5000",
                ),
            )
            nodes.append(node)  # before start(): a node that fails to start is still stopped below
            node.start()
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in nodes), "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        _wait_for_cluster([n.port for n in nodes], primaries)
        yield PrivateCluster(tuple(nodes))
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(root, ignore_errors=True)
