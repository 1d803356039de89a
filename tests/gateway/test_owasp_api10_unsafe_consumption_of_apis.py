"""OWASP API10:2023 Unsafe Consumption of APIs: a misbehaving downstream never crashes the gateway.

A downstream that answers with bytes that are not HTTP, or hangs up mid-response, is a 502 envelope; one that
is slower than the deadline is a 504 envelope within the deadline; a non-JSON body with a valid status is
passed through as the downstream's answer, not parsed (the gateway never trusts it to be well-formed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import add_user, login, running, sqlite_settings
from tests.gateway.fakes import FakeService
from tests.support.servers import free_port

pytestmark = pytest.mark.integration
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"\x00\xffTHIS IS NOT HTTP\r\n\r\n")
    await writer.drain()
    writer.close()


async def _hang_up_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"a":')
    await writer.drain()
    writer.close()


async def _raw_server(handler: Handler) -> tuple[asyncio.Server, str]:
    port = free_port()
    server = await asyncio.start_server(handler, "127.0.0.1", port)
    return server, f"http://127.0.0.1:{port}"


async def _call(tmp_path: Path, key: SigningKey, url: str, path: str, **headers: str) -> httpx.Response:
    settings = sqlite_settings(tmp_path, key, catalog_url=url, recommender_url=url, retry_max_attempts=1)
    app = create_app(settings)
    async with running(app) as client:
        await add_user(app, "ada")
        token = (await login(client, "ada")).json()["access_token"]
        response: httpx.Response = await client.get(
            path, headers={"Authorization": f"Bearer {token}", **headers}
        )
    return response


@pytest.mark.parametrize("handler", [_not_http, _hang_up_mid_body], ids=["not_http", "hang_up_mid_body"])
async def test_a_garbage_answer_from_a_downstream_is_a_502_envelope(
    tmp_path: Path, signing_key: SigningKey, handler: Handler
) -> None:
    server, url = await _raw_server(handler)
    async with server:
        response = await _call(tmp_path, signing_key, url, "/catalog/v2/tracks")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"
    assert response.json()["error"]["request_id"]


@pytest.fixture
async def slow() -> AsyncIterator[FakeService]:
    fake = FakeService(delay_s=2.0)
    await fake.start()
    yield fake
    await fake.stop()


async def test_a_slow_downstream_is_a_504_envelope_within_the_deadline(
    tmp_path: Path, signing_key: SigningKey, slow: FakeService
) -> None:
    started = time.perf_counter()
    response = await _call(
        tmp_path, signing_key, slow.url, "/catalog/v2/tracks", **{"X-Request-Deadline": "300"}
    )
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "downstream_timeout"
    assert time.perf_counter() - started < 2.0  # login included; far under the 2 s the downstream takes
