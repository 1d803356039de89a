"""OWASP API8:2023 Security Misconfiguration: hardened headers, no version leak, allowlists, no tracebacks.

Every response (errors included) carries HSTS, ``nosniff``, a deny-all CSP and no ``Server`` header; auth
responses are ``no-store``; CORS answers only allowlisted origins; unknown hosts are refused; and an
unexpected exception becomes the JSON error envelope with a 500, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import running, sqlite_settings

pytestmark = pytest.mark.integration


async def test_headers_hosts_and_cors_are_locked_down(tmp_path: Path, signing_key: SigningKey) -> None:
    settings = sqlite_settings(tmp_path, signing_key, cors_origins=("https://app.example",))
    app = create_app(settings)
    async with running(app) as client:
        ok = await client.get("/healthz")
        error = await client.post("/auth/token", data={})
        evil_host = await client.get("/healthz", headers={"Host": "evil.example"})
        preflight = {"Access-Control-Request-Method": "GET"}
        evil_origin = await client.options(
            "/users/me", headers={"Origin": "https://evil.example", **preflight}
        )
        simple = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    for response in (ok, error):
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert "server" not in response.headers
        assert "x-powered-by" not in response.headers
    assert error.headers["cache-control"] == "no-store"
    assert evil_host.status_code == 400
    assert evil_origin.status_code == 400
    assert "access-control-allow-origin" not in evil_origin.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_an_unexpected_error_is_an_envelope_not_a_traceback(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    app = create_app(sqlite_settings(tmp_path, signing_key))

    @app.get("/boom-for-test")
    async def boom() -> None:
        raise RuntimeError("secret internal detail at /srv/gateway.py line 42")

    async with running(app) as client:
        response = await client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id"}
    assert "Traceback" not in response.text
    assert "secret internal detail" not in response.text
