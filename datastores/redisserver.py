"""A private ``redis-server`` on a free loopback port in a temp folder: for memory figures that no other
user's keys pollute, and for ``kill -9`` experiments that must never touch the shared server on 6379.

The server keeps its folder across :meth:`RedisServer.kill` and :meth:`RedisServer.start`, so a restart
reloads whatever it had persisted (RDB snapshot or AOF), exactly like a crashed server coming back on the
same disk."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis

START_TIMEOUT_S = 60.0  # a restart may have to load a large AOF or snapshot first
TEMP_PREFIX = "datastores-redis-"
# Redis 7's built-in snapshot rules: after 3600 s if >= 1 change, 300 s if >= 100, 60 s if >= 10000
STOCK_SAVE = "3600 1 300 100 60 10000"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_missing() -> bool:
    return shutil.which("redis-server") is None


class RedisServer:
    def __init__(self, workdir: Path, config: Sequence[str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.config = tuple(config)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.workdir),
            "--logfile", str(self.workdir / "redis.log"),
            "--daemonize", "no",
            *self.config,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}; see {self.workdir}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server on port {self.port} not ready in {START_TIMEOUT_S:.0f}s")
            time.sleep(0.02)

    def _ready(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())  # raises BusyLoadingError while it loads the AOF/snapshot
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """``kill -9``: no shutdown, no final save, nothing flushed that was not flushed already."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def private_redis(*config: str) -> Iterator[RedisServer]:
    """A started server with ``config`` (default: no persistence); always stopped and its folder removed."""
    workdir = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    server = RedisServer(workdir, config or ("--save", "", "--appendonly", "no"))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
