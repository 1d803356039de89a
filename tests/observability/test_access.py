"""The request middleware: one access line per request, the request id in and out, 500s still correlated."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from observability import get_logger, instrument
from observability.request_id import current_request_id
from tests.observability.conftest import access_lines, json_lines

pytestmark = pytest.mark.integration
MakeClient = Callable[[FastAPI], httpx.AsyncClient]


def build(service: str) -> FastAPI:
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        get_logger("handler").info("loading_user", user_id=user_id)
        return {"id": user_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom: secret internals")

    instrument(app, service=service)
    return app


async def test_each_request_writes_exactly_one_json_access_line_with_the_correlation_fields(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(build(service))
    responses = [await client.get(f"/users/{i}") for i in range(5)]
    lines = access_lines(capsys.readouterr().out)
    assert len(lines) == 5
    for response, line in zip(responses, lines, strict=True):
        assert line["request_id"] == response.headers["x-request-id"]
        assert len(line["trace_id"]) == 32
        assert len(line["span_id"]) == 16
        assert line["method"] == "GET"
        assert line["route"] == "/users/{user_id}"
        assert line["path"] == response.request.url.path
        assert line["status"] == 200
        assert isinstance(line["duration_ms"], float)
        assert line["duration_ms"] >= 0
        assert line["service"] == service


async def test_lines_logged_while_handling_a_request_carry_its_request_and_trace_ids(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await make_client(build(service)).get("/users/3", headers={"X-Request-ID": "abc-123"})
    handler_line, access_line = [
        line for line in json_lines(capsys.readouterr().out) if line["event"] in {"loading_user", "request"}
    ]
    assert response.headers["x-request-id"] == "abc-123"
    assert handler_line["request_id"] == access_line["request_id"] == "abc-123"
    assert handler_line["trace_id"] == access_line["trace_id"]
    assert current_request_id() is None  # nothing leaks into the next request's context


async def test_an_invalid_incoming_request_id_is_replaced_by_a_fresh_one(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = 'x" level=error msg="forged'
    response = await make_client(build(service)).get("/users/1", headers={"X-Request-ID": forged})
    [line] = access_lines(capsys.readouterr().out)
    assert response.headers["x-request-id"] != forged
    assert len(response.headers["x-request-id"]) == 32
    assert line["request_id"] == response.headers["x-request-id"]


async def test_an_unhandled_exception_answers_the_500_envelope_with_the_same_request_id_everywhere(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await make_client(build(service)).get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500"
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Internal server error", "request_id": "req-500"}
    }
    assert "kaboom" not in response.text
    assert "Traceback" not in response.text
    lines = json_lines(capsys.readouterr().out)
    [error] = [line for line in lines if line["event"] == "unhandled_exception"]
    [access] = [line for line in lines if line["event"] == "request"]
    assert error["request_id"] == access["request_id"] == "req-500"
    assert error["level"] == "error"
    assert error["exception"][0]["exc_type"] == "RuntimeError"
    assert access["status"] == 500
    assert access["route"] == "/boom"


async def test_probe_and_scrape_requests_are_logged_at_debug_not_info(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(build(service))
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await client.get(path)).status_code == 200
    assert access_lines(capsys.readouterr().out) == []


async def test_middleware_added_after_instrument_still_runs_inside_ours(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rate limiter added later must not answer 429s without request id, access line and metrics."""
    app = build(service)

    class Reject:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"].startswith("/users"):
                await JSONResponse({"limited": True}, status_code=429)(scope, receive, send)
                return
            await self.app(scope, receive, send)

    app.add_middleware(Reject)
    client = make_client(app)
    response = await client.get("/users/1")
    assert response.status_code == 429
    [line] = access_lines(capsys.readouterr().out)
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["status"] == 429
    metrics = (await client.get("/metrics")).text
    assert f'service="{service}",status="429"' in metrics
