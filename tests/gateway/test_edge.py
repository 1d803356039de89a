"""Edge hardening in embedded mode (SQLite): headers, hosts, CORS allowlist, body limit, mass assignment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import PASSWORD, running, sqlite_settings

pytestmark = pytest.mark.integration

App = tuple[FastAPI, httpx.AsyncClient]


async def test_every_response_carries_the_security_headers_and_no_server_header(embedded_app: App) -> None:
    _, client = embedded_app
    response = await client.get("/")
    assert response.headers["strict-transport-security"].startswith("max-age=63072000")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in response.headers
    error = await client.get("/no-such-route")
    assert error.headers["x-content-type-options"] == "nosniff"


async def test_a_request_for_an_untrusted_host_is_refused(embedded_app: App) -> None:
    _, client = embedded_app
    response = await client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400


@pytest.fixture
async def cors_app(tmp_path: Path, signing_key: SigningKey) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(sqlite_settings(tmp_path, signing_key, cors_origins=("https://app.example",)))
    async with running(app) as client:
        yield client


async def test_cors_allows_only_the_listed_origins(cors_app: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    ok = await cors_app.options("/auth/token", headers={"Origin": "https://app.example", **preflight})
    assert ok.headers["access-control-allow-origin"] == "https://app.example"
    bad = await cors_app.options("/auth/token", headers={"Origin": "https://evil.example", **preflight})
    assert bad.status_code == 400
    assert "access-control-allow-origin" not in bad.headers


async def test_a_body_over_the_limit_is_refused_with_413(embedded_app: App) -> None:
    _, client = embedded_app
    big = {"username": "mallory", "password": "x" * (70 * 1024)}
    response = await client.post("/users", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_a_chunked_body_over_the_limit_is_refused_with_413(embedded_app: App) -> None:
    """No Content-Length: the middleware counts the streamed bytes and stops at the limit."""
    _, client = embedded_app

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"a" * 8192

    response = await client.post("/users", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


async def test_sign_up_refuses_a_body_that_tries_to_grant_itself_scopes(embedded_app: App) -> None:
    """Mass assignment: unknown fields are a 422 naming the field, never silently bound."""
    _, client = embedded_app
    body = {"username": "mallory", "password": PASSWORD, "scopes": ["admin"]}
    response = await client.post("/users", json=body)
    assert response.status_code == 422
    assert "scopes" in response.json()["error"]["message"]
    ok = await client.post("/users", json={"username": "mallory", "password": PASSWORD})
    assert ok.status_code == 201
    assert "admin" not in ok.json()["scopes"]


async def test_the_token_endpoint_refuses_unknown_form_fields(embedded_app: App) -> None:
    _, client = embedded_app
    await client.post("/users", json={"username": "nina", "password": PASSWORD})
    form = {"grant_type": "password", "username": "nina", "password": PASSWORD, "is_admin": "true"}
    assert (await client.post("/auth/token", data=form)).status_code == 422


async def test_a_duplicate_username_is_a_409(embedded_app: App) -> None:
    _, client = embedded_app
    body = {"username": "olga", "password": PASSWORD}
    assert (await client.post("/users", json=body)).status_code == 201
    again = await client.post("/users", json=body)
    assert again.status_code == 409


async def test_the_whole_flow_works_on_sqlite_in_embedded_mode(embedded_app: App) -> None:
    _, client = embedded_app
    await client.post("/users", json={"username": "pat", "password": PASSWORD})
    data = {"grant_type": "password", "username": "pat", "password": PASSWORD}
    tokens = (await client.post("/auth/token", data=data)).json()
    rotated = await client.post("/auth/refresh", data={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    reused = await client.post("/auth/refresh", data={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 400
    newer = {"refresh_token": rotated.json()["refresh_token"]}
    assert (await client.post("/auth/refresh", data=newer)).status_code == 400  # the family was revoked
