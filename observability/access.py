"""The outermost request middleware: correlation id in, correlation id out, one access log line per request.

For each HTTP request it picks the request id (``request_id.py``), binds it to structlog's context variables
so every line logged while handling the request carries it, adds ``X-Request-ID`` to the response, and finally
writes exactly one access line: ``request_id trace_id span_id method route path status duration_ms``. An
exception that escapes the app becomes the JSON 500 envelope here, still with the header, and is logged once
with the exception as a structured field (and recorded on the trace span); the client never sees a traceback.
Pure ASGI, like ``metrics.py``: BaseHTTPMiddleware costs a task and two memory streams per request.
"""

from __future__ import annotations

import time

import orjson
import structlog
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability import request_id as rid
from observability.errors import envelope
from observability.logging import get_logger
from observability.routes import RouteTemplates

# Probes and scrapes arrive every few seconds forever; at INFO they would drown the access log.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_HEADER = rid.HEADER.encode("ascii")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: RouteTemplates | None = None
        # The middleware is built on the first request, after instrument() configured logging: binding now
        # resolves structlog's lazy proxy once instead of on every call.
        self._log = get_logger("observability.access").bind()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._routes is None:
            self._routes = RouteTemplates.of(scope["app"])
        request_id = rid.from_headers(scope["headers"]) or rid.new_request_id()
        scope[rid.SCOPE_KEY] = request_id
        header = (_HEADER, request_id.encode("ascii"))
        root_path = scope.get("root_path", "")
        status = 500
        started_response = False
        finished = 0.0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started_response, finished
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message = {**message, "headers": [*message.get("headers", ()), header]}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = time.perf_counter()
            await send(message)

        context_tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        id_token = rid.set_current(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            status = 500
            self._log.error("unhandled_exception", exc_info=exc)
            span = trace.get_current_span()
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            if started_response:
                raise  # headers already went out: all we can do is let the server abort the response
            body = orjson.dumps(envelope("internal_error", "Internal server error", request_id))
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"%d" % len(body)),
                    ],
                }
            )
            await send_wrapper({"type": "http.response.body", "body": body})
        finally:
            route = self._routes.template(scope, root_path)
            log = self._log.debug if route in QUIET_ROUTES else self._log.info
            log(
                "request",
                method=scope["method"],
                route=route,
                path=scope["path"],
                status=status,
                duration_ms=round(((finished or time.perf_counter()) - started) * 1000, 3),
            )
            rid.reset_current(id_token)
            structlog.contextvars.reset_contextvars(**context_tokens)
