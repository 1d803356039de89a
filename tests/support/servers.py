"""Private ``redis-server`` and PostgreSQL processes for tests that stop, kill or reconfigure a server.

The shared servers on 6379 and 5432 are never touched that way (DESIGN.md); a test that needs to do it starts
its own here, on a free loopback port, inside a temp folder, and the context manager always removes both.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import redis

START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(check: object, what: str, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except Exception as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not become ready in {timeout:.0f}s (last error: {last})")


class PrivateRedis:
    """A ``redis-server`` of the test's own. ``kill()``/``pause()`` model crashes and partitions."""

    def __init__(self, workdir: Path, port: int, extra_args: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.port = port
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.workdir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(self.workdir / "redis.log"),
            *self.extra_args,
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_until(self.ping, f"redis-server on port {self.port}")

    def ping(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def kill(self) -> None:
        """SIGKILL: the process dies without saving or saying goodbye."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def pause(self) -> None:
        if self.process:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process:
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused server cannot handle SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextlib.contextmanager
def private_redis(*extra_args: str) -> Iterator[PrivateRedis]:
    workdir = Path(tempfile.mkdtemp(prefix="private-redis-"))
    server = PrivateRedis(workdir, free_port(), tuple(extra_args))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_bindir() -> Path:
    """The newest installed PostgreSQL server binaries (Debian layout), or those on PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if candidates:
        return candidates[-1]
    initdb = shutil.which("initdb")
    if initdb is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb) found; install postgresql")
    return Path(initdb).parent


def _as_postgres_user() -> list[str]:
    # initdb refuses to run as root; CI runs as root, so drop to the postgres system user there
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) listening on a free loopback port."""

    def __init__(self, workdir: Path, port: int, settings: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.datadir = workdir / "data"
        self.port = port
        self.settings = settings or {}
        self.bindir = postgres_bindir()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*_as_postgres_user(), *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.workdir),
            "fsync": "off",
            **self.settings,
        }
        opts = " ".join(f"-c {k}={v}" for k, v in options.items())
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.workdir / "postgres.log"),
            "-o",
            opts,
            "-w",
            "start",
        )
        _wait_until(self.ping, f"postgres on port {self.port}")

    def ping(self) -> bool:
        with psycopg.connect(self.url, connect_timeout=1) as conn:
            conn.execute("SELECT 1")
        return True

    def stop(self, mode: str = "fast") -> None:
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop")
        pid_file = self.datadir / "postmaster.pid"
        if pid_file.exists():  # pg_ctl failed: make sure nothing outlives the test
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGKILL)


@contextlib.contextmanager
def private_postgres(settings: dict[str, str] | None = None) -> Iterator[PrivatePostgres]:
    workdir = Path(tempfile.mkdtemp(prefix="private-pg-"))
    server = PrivatePostgres(workdir, free_port(), settings)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)
