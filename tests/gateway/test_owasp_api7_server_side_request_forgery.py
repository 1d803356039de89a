"""OWASP API7:2023 Server Side Request Forgery: the proxy only ever calls its configured downstreams.

Each downstream's address lives in settings (``routing.py``: one client per ``base_url``); the caller only
supplies a path, and ``proxy.checked_path`` refuses empty, ``//``, ``.`` and ``..`` segments (after percent
decoding), so no absolute URL, protocol-relative URL or traversal can point the gateway anywhere else. The
caller's ``Host`` and ``X-Forwarded-Host`` never reach the downstream client. A second fake service stands
for an internal host an attacker wants reached: it must see no request at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from starlette.types import Message

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import add_user, login, running, sqlite_settings
from tests.gateway.fakes import FakeService

pytestmark = pytest.mark.integration


@pytest.fixture
async def services() -> AsyncIterator[tuple[FakeService, FakeService]]:
    catalog, internal = FakeService(), FakeService()
    await catalog.start()
    await internal.start()
    yield catalog, internal
    await catalog.stop()
    await internal.stop()


def payloads(internal: FakeService) -> list[str]:
    """Raw request targets, sent as-is (httpx itself would normalise ``..`` and ``.`` away)."""
    host = f"127.0.0.1:{internal.port}"
    return [
        f"/catalog/http://{host}/steal",
        f"/catalog/http:%2F%2F{host}/steal",
        f"/catalog//{host}/steal",
        f"/catalog//{host}/metrics",  # was forwarded as the catalog's own /metrics before the fix
        f"/catalog/%2F%2F{host}/steal",
        "/catalog/v2/../../metrics",
        "/catalog/v2/%2e%2e/%2e%2e/metrics",
        "/catalog/v2/..%2F..%2Fadmin",
        "/catalog/./v2/tracks",
    ]


async def raw_get(app: FastAPI, raw_target: str, headers: dict[str, str]) -> int:
    """One GET through the ASGI app, the target as sent by e.g. ``curl --path-as-is``."""
    raw_path = raw_target.encode()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_target),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


async def test_no_path_can_make_the_gateway_call_another_host_or_escape_the_prefix(
    tmp_path: Path, signing_key: SigningKey, services: tuple[FakeService, FakeService]
) -> None:
    catalog, internal = services
    app = create_app(
        sqlite_settings(tmp_path, signing_key, catalog_url=catalog.url, recommender_url=catalog.url)
    )
    async with running(app) as client:
        await add_user(app, "mallory")
        token = (await login(client, "mallory")).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        statuses = {path: await raw_get(app, path, auth) for path in payloads(internal)}
    assert statuses == dict.fromkeys(payloads(internal), 404)
    assert internal.seen == []
    assert [seen.path for seen in catalog.seen if seen.path != "/popular"] == []


async def test_the_callers_host_headers_never_choose_the_downstream(
    tmp_path: Path, signing_key: SigningKey, services: tuple[FakeService, FakeService]
) -> None:
    """``Host: 127.0.0.1:<internal>`` passes the trusted-host check (same host name) yet changes nothing."""
    catalog, internal = services
    app = create_app(
        sqlite_settings(tmp_path, signing_key, catalog_url=catalog.url, recommender_url=catalog.url)
    )
    async with running(app) as client:
        await add_user(app, "mallory")
        token = (await login(client, "mallory")).json()["access_token"]
        spoof = {
            "Authorization": f"Bearer {token}",
            "Host": f"127.0.0.1:{internal.port}",
            "X-Forwarded-Host": f"127.0.0.1:{internal.port}",
        }
        response = await client.get("/catalog/v2/tracks", headers=spoof)
    assert response.status_code == 200
    assert internal.seen == []
    forwarded = [seen for seen in catalog.seen if seen.path == "/v2/tracks"]
    assert len(forwarded) == 1
    assert forwarded[0].headers["host"] == f"127.0.0.1:{catalog.port}"
