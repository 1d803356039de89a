"""A process harness that can start, pause, kill and always clean up real servers.

Every experiment runs inside one :class:`Harness`: a private temp folder under which each server keeps its
data and its working directory. Faults are plain signals: ``SIGSTOP``/``SIGCONT`` model a partition or a pause
(the process keeps its sockets but moves no bytes), ``SIGKILL`` models a crash. Cleanup does not trust
bookkeeping alone: besides killing every process group it started, it kills any process whose working
directory lies under the harness folder (PostgreSQL backends detach into their own sessions but keep the data
dir as their cwd), and only then removes the folder. It runs on normal exit, on an exception, on Ctrl-C, at
interpreter exit, and on SIGTERM once :func:`install_signal_cleanup` was called.

"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Self

TEMP_PREFIX = "replication-"
PROXY_SCRIPT = Path(__file__).with_name("linkproxy.py")
_LIVE: set[Harness] = set()  # strong refs: a harness nobody closed is still cleaned up at exit


def free_port() -> int:
    """A loopback port nobody listens on right now (the caller retries if it is taken before use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20.0, interval: float = 0.01) -> None:
    """Poll ``check`` until it returns true; exceptions count as "not yet"."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout:.0f}s (last error: {last!r})")


def process_state(pid: int) -> str | None:
    """The kernel's one-letter state (R, S, T, Z, ...) or None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    return process_state(pid) not in (None, "Z", "X")


def processes_under(root: Path) -> list[int]:
    """Pids of live processes whose working directory is ``root`` or below it."""
    found = []
    prefix = str(root)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = str((entry / "cwd").readlink())
        except OSError:
            continue
        if (cwd == prefix or cwd.startswith(prefix + "/")) and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def kill_processes_under(root: Path, timeout: float = 10.0) -> None:
    """SIGKILL every process working under ``root`` (stopped ones die too) and wait until all are gone."""
    deadline = time.monotonic() + timeout
    while pids := processes_under(root):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {pids} under {root} survived SIGKILL")
        time.sleep(0.01)


def identity(postgres: bool) -> tuple[str | None, str | None, list[str] | None]:
    """(user, group, extra_groups) for Popen: the postgres user when we are root (initdb refuses root)."""
    if not postgres or os.geteuid() != 0:
        return None, None, None
    return "postgres", "postgres", []


class Harness:
    """Owns a temp folder and every process started in it; ``with Harness() as h:`` guarantees cleanup."""

    def __init__(self, prefix: str = TEMP_PREFIX) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.root.chmod(0o755)  # the postgres user must be able to reach its data dirs below
        self.processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []
        self.closed = False
        _LIVE.add(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def directory(self, name: str, *, for_postgres: bool = False) -> Path:
        path = self.root / name
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if for_postgres and os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")
        return path

    def spawn(
        self, args: list[str], *, cwd: Path, log: Path, postgres: bool = False
    ) -> subprocess.Popen[bytes]:
        """Start a long-running process in its own session (so signals reach its whole group)."""
        if not str(cwd).startswith(str(self.root)):
            raise ValueError("processes must work under the harness folder, so cleanup can find them")
        log_file = log.open("ab")
        self._logs.append(log_file)
        user, group, extra_groups = identity(postgres)
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            group=group,
            extra_groups=extra_groups,
        )
        self.processes.append(proc)
        return proc

    def run(self, args: list[str], *, postgres: bool = False, timeout: float = 60.0) -> str:
        """Run a short command to completion (initdb, pg_basebackup, pg_ctl); raise with its stderr."""
        user, group, extra_groups = identity(postgres)
        result = subprocess.run(
            args,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            user=user,
            group=group,
            extra_groups=extra_groups,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def start_proxy(self, target_port: int) -> tuple[subprocess.Popen[bytes], int]:
        """A TCP relay to ``target_port``: the replication link, which a fault can pause (SIGSTOP) or cut."""
        workdir = self.directory(f"proxy-{target_port}")
        port_file = workdir / "port"
        proc = self.spawn(
            [sys.executable, str(PROXY_SCRIPT), str(target_port), str(port_file)],
            cwd=workdir,
            log=workdir / "proxy.log",
        )
        wait_until(lambda: port_file.exists() and port_file.read_text().strip().isdigit(), "proxy listening")
        if proc.poll() is not None:
            raise RuntimeError(f"link proxy exited with {proc.returncode}")
        return proc, int(port_file.read_text())

    def close(self) -> None:
        """Kill everything, then remove the folder. Safe to call twice and from atexit."""
        if self.closed:
            return
        self.closed = True
        try:
            for proc in self.processes:
                kill_group(proc)
            kill_processes_under(self.root)
        finally:
            for log_file in self._logs:
                log_file.close()
            shutil.rmtree(self.root, ignore_errors=True)
            _LIVE.discard(self)


def pause(proc: subprocess.Popen[bytes]) -> None:
    """SIGSTOP and wait until the kernel reports the process stopped, so no byte moves after we return."""
    os.killpg(proc.pid, signal.SIGSTOP)
    wait_until(lambda: process_state(proc.pid) == "T", f"pid {proc.pid} stopped", timeout=5.0, interval=0.001)


def resume(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGCONT)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """``kill -9`` the process group and reap the leader."""
    if proc.poll() is None:  # once reaped, its pid may be reused: leave stragglers to the cwd sweep
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def close_all() -> None:
    """Clean up every harness still open (atexit, signal handlers)."""
    for harness in list(_LIVE):
        harness.close()


def install_signal_cleanup() -> None:
    """For CLIs: turn SIGTERM/SIGHUP into SystemExit so ``with`` blocks and atexit clean up."""

    def _exit(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit)


atexit.register(close_all)
