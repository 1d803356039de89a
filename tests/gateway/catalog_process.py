"""The real catalog service as a uvicorn subprocess on a loopback port, trusting the gateway's signing key.

Object-level checks live in the catalog (``catalog/v2.py``), so a test of them through the gateway needs the
real catalog: embedded mode (SQLite, a small seed) with ``CATALOG_JWT_PUBLIC_KEY`` set to the public half of
the key the test gateway signs with, exactly as a deployment points the catalog at the gateway's keys.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from gateway.keys import SigningKey
from tests.support.servers import free_port

START_TIMEOUT_S = 30.0


@contextlib.contextmanager
def real_catalog(workdir: Path, key: SigningKey) -> Iterator[str]:
    """Yield the base URL of a running catalog; the process is always stopped afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "BACKEND_ANSWERS_MODE": "embedded",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'catalog.sqlite3'}",
        "REDIS_URL": "",
        "CATALOG_JWT_PUBLIC_KEY": key.public_pem(),
        "CATALOG_CURSOR_SECRET": "test-cursor-secret",
        "CATALOG_EMBEDDED_SEED_TRACKS": "40",
        "CATALOG_EMBEDDED_SEED_PLAYLISTS": "6",
    }
    args = [sys.executable, "-m", "uvicorn", "--factory", "catalog.service:create_app"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--no-server-header", "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    with (workdir / "catalog.log").open("wb") as log:
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the catalog exited with {process.returncode} (see catalog.log)")
        try:
            if httpx.get(f"{url}/readyz", trust_env=False, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the catalog at {url} was not ready within {START_TIMEOUT_S:.0f}s")
