"""Fixtures for the observability tests: a fresh instrumented app per test, and logging restored afterwards.

Logging and the metrics registry are process-wide. Each test gets its own ``service`` name (so metric samples
of different tests never mix) and the logging configuration of before the test comes back afterwards (so other
packages' tests never see our handlers).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI

from observability import logging as obs_logging
from tests.support.servers import free_port

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    saved = [
        (logging.getLogger(name), list(logging.getLogger(name).handlers), logging.getLogger(name).level,
         logging.getLogger(name).propagate)
        for name in LOGGERS
    ]  # fmt: skip
    structlog_config = structlog.get_config()
    configured = obs_logging._configured_service
    obs_logging._configured_service = None  # each test's instrument() configures logging for its own service
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
    structlog.configure(**structlog_config)
    structlog.contextvars.clear_contextvars()
    obs_logging._configured_service = configured


@pytest.fixture
def service() -> str:
    """A service name of this test's own: its metric samples are the ones labelled with it."""
    return f"test-{uuid.uuid4().hex[:10]}"


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[[FastAPI], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(app: FastAPI) -> httpx.AsyncClient:
        clients.append(client_for(app))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` must be one JSON object (the claim under test), so this fails otherwise."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def access_lines(text: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(text) if line.get("logger") == "observability.access"
            and line.get("event") == "request"]  # fmt: skip


@contextlib.contextmanager
def uvicorn_server(tmp_path: Path, *, workers: int, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """The demo service under a real ``uvicorn`` process; yields its URL and the file its stdout goes to."""
    port = free_port()
    environment = {**os.environ, **env}
    environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    args = [sys.executable, "-m", "uvicorn", "--factory", "observability.demo:create_app", "--workers",
            str(workers), "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                process.wait(timeout=10)
                raise RuntimeError(f"uvicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=20)
