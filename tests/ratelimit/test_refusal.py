"""The cheap refusal: a raw ASGI envelope, and a shedder at the edge refuses before logging or routing."""

from __future__ import annotations

import httpx
import orjson
import pytest
from fastapi import FastAPI
from starlette.types import Message
from structlog.testing import capture_logs

from observability import instrument
from ratelimit.queue_delay import LoopLagProbe, StandingQueue
from ratelimit.refusal import Refusal
from ratelimit.routes import RouteMatch
from ratelimit.shedder import CRITICAL, LoadShedder, LoadSheddingMiddleware

pytestmark = pytest.mark.unit


async def refuse(scope_headers: list[tuple[bytes, bytes]]) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    refusal = Refusal(503, "overloaded", "the service is overloaded", {"Retry-After": "2"})
    await refusal.send({"type": "http", "headers": scope_headers}, send)
    return sent


async def test_a_refusal_is_the_project_envelope_with_exact_length_and_the_clients_request_id() -> None:
    start, body = await refuse([(b"x-request-id", b"abc-123")])
    headers = dict(start["headers"])
    assert start["status"] == 503
    assert orjson.loads(body["body"]) == {
        "error": {"code": "overloaded", "message": "the service is overloaded", "request_id": "abc-123"}
    }
    assert headers[b"content-length"] == str(len(body["body"])).encode()
    assert headers[b"retry-after"] == b"2"
    assert headers[b"content-type"] == b"application/json"
    assert b"x-request-id" not in headers, "the client already knows its own id"


async def test_a_refusal_invents_a_request_id_when_the_client_sent_none_or_a_forged_one() -> None:
    start, body = await refuse([(b"x-request-id", b"bad id\nforged log line")])
    request_id = orjson.loads(body["body"])["error"]["request_id"]
    assert "\n" not in request_id
    assert dict(start["headers"])[b"x-request-id"] == request_id.encode()


def instrumented_app_behind_a_shedder(probe: LoopLagProbe) -> tuple[LoadSheddingMiddleware, list[str]]:
    reached: list[str] = []
    app = FastAPI()

    @app.get("/browse")
    async def browse() -> dict[str, bool]:
        reached.append("browse")
        return {"ok": True}

    @app.post("/play")
    async def play() -> dict[str, bool]:
        reached.append("play")
        return {"ok": True}

    instrument(app, service="refusal-test", tracing=False)
    edge = LoadSheddingMiddleware(
        app, LoadShedder(10), classes=[(RouteMatch(route="/play"), CRITICAL)], queue_delay=probe
    )
    return edge, reached


async def test_with_a_standing_queue_non_critical_requests_are_shed_at_the_edge_before_access_logging() -> (
    None
):
    """The shed request costs no route, no handler and no access line; the critical one is still served."""
    probe = LoopLagProbe(StandingQueue(interval_s=3600))  # the verdict set below holds for the whole test
    probe.queue.overloaded = True
    edge, reached = instrumented_app_behind_a_shedder(probe)
    transport = httpx.ASGITransport(app=edge)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            with capture_logs() as logs:
                shed = await client.get("/browse")
                played = await client.post("/play")
    finally:
        await probe.stop()

    assert shed.status_code == 503
    assert shed.json()["error"]["code"] == "overloaded"
    assert played.status_code == 200
    assert reached == ["play"]
    access_paths = [entry.get("path") for entry in logs]
    assert "/play" in access_paths, f"the admitted request is access-logged: {logs}"
    assert "/browse" not in access_paths
