"""instrument(): what it adds, in which order, and that it refuses to run twice on one app."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from starlette.requests import Request

from observability import instrument
from observability import request_id as rid
from observability.access import RequestContextMiddleware
from observability.errors import install_error_handlers
from observability.metrics import MetricsMiddleware


class Inner:
    def __init__(self, app: object) -> None:
        self.app = app


@pytest.mark.unit
def test_instrumenting_one_app_twice_is_refused(service: str) -> None:
    app = FastAPI()
    instrument(app, service=service, tracing=False)
    with pytest.raises(RuntimeError, match="already instrumented"):
        instrument(app, service=service, tracing=False)


@pytest.mark.unit
def test_probe_and_metrics_routes_exist_but_stay_out_of_the_openapi_schema(service: str) -> None:
    app = FastAPI()
    instrument(app, service=service, tracing=False)
    assert {"/healthz", "/readyz", "/metrics"} <= {getattr(r, "path", None) for r in app.routes}
    assert not {"/healthz", "/readyz", "/metrics"} & set(app.openapi()["paths"])


@pytest.mark.unit
def test_our_middleware_is_outermost_whatever_order_middleware_was_added_in(service: str) -> None:
    app = FastAPI()
    app.add_middleware(Inner)  # type: ignore[arg-type]
    instrument(app, service=service, tracing=False)
    app.add_middleware(Inner)  # type: ignore[arg-type]
    app.build_middleware_stack()
    order: list[object] = [m.cls for m in app.user_middleware]
    assert order == [RequestContextMiddleware, MetricsMiddleware, Inner, Inner]


@pytest.mark.unit
async def test_the_last_resort_500_handler_carries_the_request_id_header_itself() -> None:
    """Exceptions raised outside our middleware reach Starlette's error handler, past our send wrapper."""
    app = FastAPI()
    install_error_handlers(app)
    handler = app.exception_handlers[Exception]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], rid.SCOPE_KEY: "outer-1"}
    response = await handler(Request(scope), RuntimeError("x"))  # type: ignore[misc]
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "outer-1"
    assert b'"request_id":"outer-1"' in response.body
