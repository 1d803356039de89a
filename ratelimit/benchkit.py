"""Pieces of the rate-limit benchmark: a private pinned Redis, a closed-loop load driver, the server's
counters, and ``redis-benchmark``'s ceiling. The measurement itself is in ``ratelimit/bench.py``."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import redis

if TYPE_CHECKING:
    from ratelimit.decision import Algorithm
    from ratelimit.wirecount import WireCounts

Hit = Callable[[str], Awaitable[object]]  # one decision for a key
Opened = tuple[Hit, Callable[[], Awaitable[None]]]  # (hit, close)
Opener = Callable[[int, "Algorithm", "WireCounts | None"], Awaitable[Opened]]  # (port, algorithm, counts)
MONITORING_COMMANDS = {
    "info",
    "config|resetstat",
    "ping",
    "client|setinfo",
    "client|setname",
    "hello",
    "select",
}
SCRIPT_COMMANDS = {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"}


def pinned(core: int | None, command: Sequence[str]) -> list[str]:
    """``command`` run under ``taskset -c core`` (or as is when there is no core to spare)."""
    return ["taskset", "-c", str(core), *command] if core is not None else list(command)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def private_redis(core: int | None) -> Iterator[int]:
    """The benchmark's own ``redis-server`` on a free loopback port, pinned to ``core``; yields its port."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--logfile", str(workdir / "redis.log")]  # fmt: skip
    process = subprocess.Popen(pinned(core, args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the benchmark's redis-server on port {port} did not start")
            time.sleep(0.05)
        client.close()
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass(frozen=True)
class Load:
    decisions: int
    seconds: float
    latencies_ns: list[int]

    @property
    def per_second(self) -> float:
        return self.decisions / self.seconds


async def drive(
    hit: Callable[[str], Awaitable[object]], keys: Sequence[str], concurrency: int, seconds: float
) -> Load:
    """A closed loop: ``concurrency`` clients, each awaiting one decision after another for ``seconds``."""
    latencies: list[int] = []
    stop_at = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        index = offset
        while time.perf_counter() < stop_at:
            key = keys[index % len(keys)]
            index += concurrency
            started = time.perf_counter_ns()
            await hit(key)
            latencies.append(time.perf_counter_ns() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    return Load(len(latencies), time.perf_counter() - started, latencies)


def percentile_us(latencies_ns: Sequence[int], q: float) -> float:
    ordered = sorted(latencies_ns)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


@dataclass(frozen=True)
class ServerCounters:
    """What the server itself counted: calls per command (``INFO commandstats``) and read events."""

    calls: dict[str, int]
    reads: int

    @classmethod
    def read(cls, client: redis.Redis) -> ServerCounters:
        stats = client.info("commandstats")
        calls = {name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in stats.items()}
        return cls(calls, int(client.info("stats")["total_reads_processed"]))

    def since(self, before: ServerCounters, decisions: int) -> dict[str, float]:
        delta = {k: v - before.calls.get(k, 0) for k, v in self.calls.items() if k not in MONITORING_COMMANDS}
        scripts = sum(v for k, v in delta.items() if k in SCRIPT_COMMANDS)
        return {
            "script_calls_per_decision": scripts / decisions,
            "other_commands_per_decision": (sum(delta.values()) - scripts)
            / decisions,  # incl. those inside scripts
            "server_reads_per_decision": (self.reads - before.reads) / decisions,
        }


def evalsha_ceiling(port: int, concurrency: int, requests: int, core: int | None) -> float:
    """``redis-benchmark`` running a trivial ``EVALSHA`` at ``concurrency`` clients: requests per second."""
    client = redis.Redis(port=port)
    sha = client.script_load("return 1")
    client.close()
    args = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(concurrency),
            "-n", str(requests), "-P", "1", "--csv", "evalsha", sha, "0"]  # fmt: skip
    out = subprocess.run(pinned(core, args), capture_output=True, text=True, check=True, timeout=600).stdout
    rows = list(csv.reader(io.StringIO(out)))
    return float(rows[-1][1])


def cores() -> tuple[int | None, int | None]:
    """(Redis's core, the load generator's core): two different ones when the machine has them."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2 or shutil.which("taskset") is None:
        return None, None
    return available[0], available[1]
