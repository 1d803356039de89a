"""A downstream's answer is read up to ``downstream_max_response_bytes`` (decoded), then refused with a 502.

Raw loopback servers send exactly the bytes each case needs: a huge declared ``Content-Length`` (refused
before a byte of body is read), a chunked stream with no length that runs past the cap, and a gzip bomb whose
few compressed bytes inflate past it. A body at the cap still passes, and a too-large answer is never retried
(OWASP API10:2023, unsafe consumption of APIs).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import add_user, login, running, sqlite_settings
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

CAP = 4096
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Gateway = Callable[[Handler], AbstractAsyncContextManager[tuple[httpx.AsyncClient, dict[str, str]]]]


def chunked(body: bytes, size: int = 1024) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def answering(head: bytes, body: bytes = b"", *, hold_s: float = 0.0) -> tuple[Handler, list[str]]:
    """A handler answering every request with ``head`` + ``body`` (then holding on), and the paths seen."""
    paths: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0]
        paths.append(request_line.split()[1].decode())
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n" + head + b"\r\n" + body)
        await writer.drain()
        if hold_s:  # until the gateway hangs up (it should, at once) or hold_s passes
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(reader.read(), hold_s)
        writer.close()

    return handle, paths


@pytest.fixture
def gateway_behind(tmp_path: Path, signing_key: SigningKey) -> Gateway:
    """A gateway (cap ``CAP``, three attempts for idempotent calls) in front of a raw server, and a token."""

    @asynccontextmanager
    async def start(handler: Handler) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = sqlite_settings(
            tmp_path,
            signing_key,
            catalog_url=url,
            recommender_url=url,
            downstream_max_response_bytes=CAP,
            retry_max_attempts=3,
        )
        app = create_app(settings)
        server = await asyncio.start_server(handler, "127.0.0.1", port)
        async with server, running(app) as client:
            await add_user(app, "ada")
            token = (await login(client, "ada")).json()["access_token"]
            yield client, {"Authorization": f"Bearer {token}"}

    return start


def assert_refused_as_too_large(response: httpx.Response) -> None:
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "downstream_response_too_large"
    assert error["request_id"]


async def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_read(
    gateway_behind: Gateway,
) -> None:
    """The server declares 100 MB and sends none of it: the gateway answers at once, not at the deadline."""
    handler, paths = answering(b"content-length: 100000000\r\n", hold_s=5.0)
    async with gateway_behind(handler) as (client, auth):
        started = time.perf_counter()
        response = await client.get("/catalog/v2/tracks", headers=auth)
        elapsed = time.perf_counter() - started
    assert_refused_as_too_large(response)
    assert elapsed < 1.0  # the deadline is 3 s and the server holds the socket 5 s
    # a too-large answer is not retried: it would only be as large again
    assert paths.count("/v2/tracks") == 1


async def test_a_chunked_body_without_a_length_is_cut_off_past_the_cap(gateway_behind: Gateway) -> None:
    handler, paths = answering(b"transfer-encoding: chunked\r\n", chunked(b"x" * (16 * CAP)))
    async with gateway_behind(handler) as (client, auth):
        response = await client.get("/catalog/v2/tracks", headers=auth)
    assert_refused_as_too_large(response)
    assert paths.count("/v2/tracks") == 1


async def test_a_gzip_bomb_counts_at_its_inflated_size(gateway_behind: Gateway) -> None:
    bomb = gzip.compress(b"\0" * (256 * CAP))
    assert len(bomb) < CAP  # on the wire it is under the cap
    head = b"content-encoding: gzip\r\ncontent-length: %d\r\n" % len(bomb)
    handler, _ = answering(head, bomb)
    async with gateway_behind(handler) as (client, auth):
        response = await client.get("/catalog/v2/tracks", headers=auth)
    assert_refused_as_too_large(response)


async def test_a_body_exactly_at_the_cap_passes_through_unchanged(gateway_behind: Gateway) -> None:
    body = bytes(range(256)) * (CAP // 256)
    handler, _ = answering(b"transfer-encoding: chunked\r\n", chunked(body))
    async with gateway_behind(handler) as (client, auth):
        response = await client.get("/catalog/v2/tracks", headers=auth)
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-length"] == str(CAP)
