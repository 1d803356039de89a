"""The gateway over TLS (uvicorn with a ``trustme`` certificate): the handshake verifies, HSTS is sent."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import trustme

from gateway.keys import generate_key, private_pem
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_gateway(tmp_path_factory: pytest.TempPathFactory, ca: trustme.CA) -> Iterator[str]:
    """One uvicorn process for the module: starting it costs seconds, the checks milliseconds."""
    tmp_path = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("localhost", "127.0.0.1")
    key_file, cert_file = tmp_path / "server.key", tmp_path / "server.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    port = free_port()
    env = {
        **os.environ,
        "BACKEND_ANSWERS_MODE": "embedded",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}",
        "REDIS_URL": "",
        "GATEWAY_JWT_PRIVATE_KEY": private_pem(generate_key()),
    }
    args = [sys.executable, "-m", "uvicorn", "--factory", "gateway:create_app", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--ssl-keyfile", str(key_file), "--ssl-certfile", str(cert_file)]
    args += ["--no-server-header", "--log-level", "warning"]
    with (tmp_path / "uvicorn.log").open("wb") as log:
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield f"https://localhost:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _get(url: str, context: ssl.SSLContext, deadline_s: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return httpx.get(url, verify=context, trust_env=False, timeout=2.0)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_gateway_serves_https_with_hsts_and_no_server_header(tls_gateway: str, ca: trustme.CA) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    response = _get(f"{tls_gateway}/healthz", context)
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "server" not in response.headers


def test_a_client_that_does_not_trust_the_ca_cannot_connect(tls_gateway: str, ca: trustme.CA) -> None:
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    _get(f"{tls_gateway}/healthz", trusting)  # the server is up
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_gateway}/healthz", verify=ssl.create_default_context(), trust_env=False, timeout=2.0)
