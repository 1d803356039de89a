"""Edge hardening as plain ASGI middleware: a request body size limit and the security response headers.

``BodySizeLimitMiddleware`` refuses a body over ``max_bytes`` with 413 before the app sees any of it: from
``Content-Length`` when the client sends one, otherwise by reading the (chunked) stream up to the limit and
replaying it to the app, so a client cannot make us buffer or parse an unbounded body. ``SecurityHeaders``
adds what the OWASP Secure Headers project recommends for an API: HSTS (browsers honour it only over HTTPS,
RFC 6797), ``nosniff``, a deny-all CSP and ``frame-ancestors`` (but not on the interactive docs, which load
Swagger UI), no referrer, ``Cache-Control: no-store`` on auth responses (tokens must never sit in a cache),
and it drops any ``Server`` header the app set (run uvicorn with ``--no-server-header`` for the server's own).
``wrap_outermost`` puts the headers around the *whole* stack, Starlette's ``ServerErrorMiddleware`` included:
added as an ordinary middleware they would miss the 500 that an unhandled exception turns into, and an error
page is exactly the response a browser must not sniff or frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ratelimit import error_response

DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        body, more, messages = b"", True, []
        while more:
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)  # a disconnect: hand it on as it came
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *messages]

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body larger than {self.max_bytes} bytes"
        response = error_response(scope, 413, "payload_too_large", message, {"Connection": "close"})
        await response(scope, receive, send)


class SecurityHeadersMiddleware:
    def __init__(
        self, app: ASGIApp, *, hsts_max_age_s: int, no_store_prefixes: Iterable[str] = ("/auth/",)
    ) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age_s}; includeSubDomains"
        self.no_store_prefixes = tuple(no_store_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = path.startswith(DOCS_PATHS)
        no_store = path.startswith(self.no_store_prefixes)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                del headers["server"]
                headers["strict-transport-security"] = self.hsts
                headers["x-content-type-options"] = "nosniff"
                headers["referrer-policy"] = "no-referrer"
                headers["cross-origin-resource-policy"] = "same-origin"
                if not docs:
                    headers["content-security-policy"] = "default-src 'none'; frame-ancestors 'none'"
                    headers["x-frame-options"] = "DENY"
                if no_store:
                    headers["cache-control"] = "no-store"
                    headers["pragma"] = "no-cache"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def wrap_outermost(app: FastAPI, *, hsts_max_age_s: int) -> None:
    """Security headers on every response, the 500 of an unhandled exception included.

    Starlette builds its stack as ``ServerErrorMiddleware(user middleware(ExceptionMiddleware(router)))``, so
    no ``add_middleware`` can wrap the first; wrapping what ``build_middleware_stack`` returns can. Call it
    last: earlier wrappers of ``build_middleware_stack`` (observability, OpenTelemetry) then sit inside.
    """
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_with_headers_outermost() -> ASGIApp:
        return SecurityHeadersMiddleware(build(), hsts_max_age_s=hsts_max_age_s)

    app.build_middleware_stack = build_with_headers_outermost  # type: ignore[method-assign] # see docstring
