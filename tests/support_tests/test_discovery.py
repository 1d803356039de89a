"""With no PostgreSQL, no Redis and no Docker, the whole session stops at once with one clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import discovery, servers

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_session_fails_fast_with_one_message_when_no_service_answers(tmp_path: Path) -> None:
    dead_port = servers.free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{dead_port}/test",
        "REDIS_URL": f"redis://127.0.0.1:{dead_port}/0",
        "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock",
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/support_tests/test_isolation.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert "Integration tests need PostgreSQL and Redis" in output
    assert "DATABASE_URL" in output
    assert "Docker" in output
    assert output.count("Integration tests need PostgreSQL and Redis") == 1
    assert elapsed < 60, f"took {elapsed:.1f}s to give up"


@pytest.mark.unit
def test_unreachable_servers_are_reported_not_raised() -> None:
    dead_port = servers.free_port()
    assert "PostgreSQL" in (discovery.postgres_error(f"postgresql://postgres@127.0.0.1:{dead_port}/x") or "")
    assert "Redis" in (discovery.redis_error(f"redis://127.0.0.1:{dead_port}/0") or "")
