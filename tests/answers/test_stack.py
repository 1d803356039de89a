"""``make demo`` (answers.stack): mode detection, ports, starting, health-checking and stopping the apps."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from answers import stack
from gateway.settings import GatewaySettings
from tests.support.servers import free_port


@pytest.fixture
def dead_urls() -> dict[str, str]:
    """URLs of a PostgreSQL and a Redis that are not there (nothing listens on these loopback ports)."""
    return {
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/test",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }


@pytest.fixture
def listening_socket() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.unit
def test_redact_hides_the_password_only() -> None:
    assert stack.redact("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert stack.redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


@pytest.mark.unit
def test_a_port_from_the_environment_wins_and_a_busy_port_is_swapped(listening_socket: int) -> None:
    app = stack.App("answers", "answers.site:create_app", 8000)
    said: list[str] = []
    wanted = free_port()
    assert stack.choose_port(app, {"ANSWERS_PORT": str(wanted)}, said.append) == wanted
    chosen = stack.choose_port(app, {"ANSWERS_PORT": str(listening_socket)}, said.append)
    assert chosen != listening_socket
    assert said == [f"port {listening_socket} is busy; answers uses {chosen} instead"]


@pytest.mark.integration
def test_embedded_mode_when_neither_server_answers(dead_urls: dict[str, str], tmp_path: Path) -> None:
    started = time.monotonic()
    mode = stack.decide_mode(dead_urls, lambda: tmp_path)
    assert time.monotonic() - started < 2.5
    assert mode.name == "embedded"
    assert "PostgreSQL at postgresql://" in mode.reason
    assert "did not answer" in mode.reason
    assert mode.env == {
        "BACKEND_ANSWERS_MODE": "embedded",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / '{app}.sqlite3'}",
        "REDIS_URL": "",
    }


@pytest.mark.unit
def test_each_embedded_app_gets_its_own_sqlite_file_so_tables_never_collide(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / '{app}.sqlite3'}"}
    urls = {stack.app_env(app, env)["DATABASE_URL"] for app in stack.APPS}
    assert len(urls) == len(stack.APPS)
    assert all("{app}" not in url for url in urls)


@pytest.mark.unit
def test_the_gateway_gets_a_demo_key_and_the_catalog_its_jwks_url() -> None:
    mode = stack.Mode("embedded", "test", {"BACKEND_ANSWERS_MODE": "embedded"})
    said: list[str] = []
    env = stack.shared_env(mode, {"gateway": 8123, "catalog": 8124}, said.append)
    assert env["GATEWAY_JWT_PRIVATE_KEY"].startswith("-----BEGIN PRIVATE KEY-----")
    assert env["CATALOG_JWKS_URL"] == "http://127.0.0.1:8123/.well-known/jwks.json"
    assert any("demo key" in line for line in said)


@pytest.mark.unit
def test_the_gateway_reaches_this_runs_catalog_and_recommender(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without these the gateway keeps its own defaults (other ports) and every proxied call fails."""
    for name in ("GATEWAY_CATALOG_URL", "GATEWAY_RECOMMENDER_URL"):
        monkeypatch.delenv(name, raising=False)
    mode = stack.Mode("services", "test", {"BACKEND_ANSWERS_MODE": "services"})
    ports = {"gateway": 8123, "catalog": 8124, "recommender": 8125}
    env = stack.shared_env(mode, ports, lambda _line: None)
    for name, value in env.items():  # the gateway reads its settings from exactly this environment
        monkeypatch.setenv(name, value)
    settings = GatewaySettings()
    assert settings.catalog_url == "http://127.0.0.1:8124"
    assert settings.recommender_url == "http://127.0.0.1:8125"


@pytest.mark.unit
def test_a_worker_runs_its_module_with_its_port_and_an_app_runs_under_uvicorn() -> None:
    worker = stack.Worker("relay", "catalog.relay", 8005)
    assert stack.command(worker, 9999) == [sys.executable, "-m", "catalog.relay", "--port", "9999"]
    argv = stack.command(stack.APPS[0], 9998)
    assert argv[1:4] == ["-m", "uvicorn", "--factory"]
    assert argv[-2:] == ["--port", "9998"]


@pytest.mark.integration
def test_embedded_mode_when_only_redis_is_missing(
    database_url: str, dead_urls: dict[str, str], tmp_path: Path
) -> None:
    mode = stack.decide_mode({**dead_urls, "DATABASE_URL": database_url}, lambda: tmp_path)
    assert mode.name == "embedded"
    assert f"PostgreSQL at {stack.redact(database_url)} answered" in mode.reason
    assert f"Redis at {dead_urls['REDIS_URL']} did not answer" in mode.reason


@pytest.mark.integration
def test_services_mode_when_both_answer(database_url: str, redis_url: str, tmp_path: Path) -> None:
    mode = stack.decide_mode({"DATABASE_URL": database_url, "REDIS_URL": redis_url}, lambda: tmp_path)
    assert mode.name == "services"
    assert mode.env == {
        "BACKEND_ANSWERS_MODE": "services",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
    }
    assert list(tmp_path.iterdir()) == []


@pytest.mark.integration
def test_a_child_that_dies_is_named_and_the_exit_code_is_non_zero() -> None:
    app = stack.App("doomed", "nowhere:create_app", 0)
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    child = stack.Child(app, free_port(), process)
    assert (
        stack.wait_healthy(child, time.monotonic() + 10)
        == "doomed exited with code 3 before answering /healthz"
    )
    console = Console(record=True, width=200)
    assert stack._watch([child], console) == 1
    assert f"doomed (pid {process.pid}) exited with code 3" in console.export_text()


def _stack_env(dead_urls: dict[str, str], port: int) -> dict[str, str]:
    return {**os.environ, **dead_urls, "ANSWERS_PORT": str(port)}


@pytest.mark.integration
def test_check_starts_the_site_in_embedded_mode_prints_urls_and_stops(dead_urls: dict[str, str]) -> None:
    """`python -m answers.stack --check` with no servers: one embedded-mode line, the URL table, exit 0."""
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "answers.stack", "--check"],
        env=_stack_env(dead_urls, port),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    mode_lines = [line for line in result.stdout.splitlines() if line.startswith("mode:")]
    assert len(mode_lines) == 1
    assert mode_lines[0].startswith("mode: embedded: PostgreSQL at ")
    assert f"http://127.0.0.1:{port}/docs" in result.stdout
    assert f"http://127.0.0.1:{port}/metrics" in result.stdout
    assert stack.port_is_free(port), "the site must be stopped when --check returns"


@pytest.mark.integration
def test_sigterm_stops_the_running_stack_and_its_children(dead_urls: dict[str, str]) -> None:
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "answers.stack"],
        env=_stack_env(dead_urls, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            seen = []
            for line in process.stdout:
                seen.append(line)
                if "Ctrl-C stops everything" in line:
                    break
            assert not stack.port_is_free(port), "".join(seen)
            process.send_signal(signal.SIGTERM)
            rest, _ = process.communicate(timeout=30)
            assert process.returncode == 0, "".join(seen) + rest
            assert "stopping" in rest
            assert stack.port_is_free(port)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=10)
