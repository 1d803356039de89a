"""The real services as OS processes on loopback ports, with their JSON log lines captured to a file.

A ``ServiceProcess`` is ``python -m uvicorn --factory <module:create_app>`` (or ``python -m <module>`` for a
worker such as a stream consumer) with an environment of the test's making. It can be stopped and started
again on the same port (a restarted service keeps its address, as behind a DNS name), killed with SIGKILL
(a crash: no shutdown hooks run), and its log read back as parsed JSON lines, one per event.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 45.0
STOP_TIMEOUT_S = 10.0


@dataclass
class ServiceProcess:
    """One service or worker process; ``factory`` (``module:create_app``) serves HTTP, ``module`` does not."""

    name: str
    env: Mapping[str, str]
    logdir: Path
    factory: str | None = None
    module: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.logdir / f"{self.name}.log"

    def args(self) -> list[str]:
        if self.factory is not None:
            return [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                self.factory,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-server-header",
            ]
        if self.module is None:
            raise ValueError(f"{self.name}: give a factory (HTTP service) or a module (worker)")
        return [sys.executable, "-m", self.module]

    def start(self, *, wait: bool = True) -> ServiceProcess:
        """Start (again): the log is appended to, so lines from every run stay readable."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"{self.name} is already running")
        self.logdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with self.log_path.open("ab") as log:
            # own session: a Ctrl-C in the test run does not reach it, teardown stops it
            self.process = subprocess.Popen(
                self.args(), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1
        if wait and self.factory is not None:
            self.wait_ready()
        return self

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited during start-up:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return
                time.sleep(0.1)
        raise TimeoutError(f"{self.name} was not ready within {timeout_s:.0f}s:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go within the timeout."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: a crash, no shutdown hook runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def log_tail(self, chars: int = 3000) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-chars:]

    def log_lines(self) -> list[dict[str, Any]]:
        """Every JSON line of the log (non-JSON lines, e.g. a crash banner, are skipped)."""
        if not self.log_path.exists():
            return []
        lines: list[dict[str, Any]] = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                parsed = json.loads(raw)
                if isinstance(parsed, dict):
                    lines.append(parsed)
        return lines


@contextlib.contextmanager
def running(*processes: ServiceProcess) -> Iterator[tuple[ServiceProcess, ...]]:
    """Start all at once (start-up is mostly imports), wait until each is ready; always stop them all."""
    try:
        for process in processes:
            process.start(wait=False)
        for process in processes:
            if process.factory is not None:
                process.wait_ready()
        yield processes
    finally:
        for process in reversed(processes):
            process.stop()
