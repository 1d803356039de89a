"""Rate limiting as pure ASGI middleware, and the same thing as a FastAPI dependency.

The middleware sees every request before routing: the first ``Rule`` whose ``RouteMatch`` covers the request
decides (so list specific rules before general ones), and every response under a policy, not only the 429,
carries ``RateLimit-Policy`` and ``RateLimit`` so well-behaved clients can slow down *before* being refused.
It is plain ASGI (no ``BaseHTTPMiddleware``): nothing is buffered, and a refusal is a raw ``Refusal`` (two
``send`` calls, no ``Response`` object). Wrap the whole (instrumented) app with it, so a 429 is decided before
routing, access logging and tracing, like an edge proxy's limit.

The dependency runs after routing and after the dependencies declared before it, which is what per-user limits
behind dependency-based auth need (``request.state.user_id`` is set by then). FastAPI copies its headers onto
the responses it builds; an endpoint that returns a ``Response`` object itself must use the middleware
instead.

Both are non-blocking: the only I/O is the limiter's ``await hit(...)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request, Response
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ratelimit.policy import Enforcer, FailMode, Policy, Rule
from ratelimit.refusal import Refusal, encode_headers
from ratelimit.routes import RouteMatch


class RateLimitMiddleware:
    """``app.add_middleware(RateLimitMiddleware, rules=[Rule(policy, RouteMatch(prefix="/api/"))])``."""

    def __init__(self, app: ASGIApp, rules: Sequence[Rule], *, enforcer: Enforcer | None = None) -> None:
        self.app = app
        self.rules = tuple(rules)
        self.enforcer = enforcer or Enforcer()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = next((r for r in self.rules if r.match.matches(scope)), None)
        if rule is None:
            await self.app(scope, receive, send)
            return
        verdict = await self.enforcer.check(rule, HTTPConnection(scope))
        if not verdict.allowed:
            await Refusal(*self.enforcer.refusal_parts(verdict)).send(scope, send)
            return
        extra = encode_headers(verdict.headers)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RateLimitRefusedError(HTTPException):
    """Raised by ``RateLimitDependency``; carries the finished envelope response.

    It is an ``HTTPException`` so that, even without our handler, status and ``Retry-After`` survive; with
    ``install_rate_limit_handler(app)`` the body is the project's error envelope.
    """

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code, headers=dict(response.headers))
        self.response = response


async def _render_refusal(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimitRefusedError)
    return exc.response


def install_rate_limit_handler(app: Starlette) -> None:
    """Render ``RateLimitRefusedError`` as the JSON envelope (call once per app using the dependency)."""
    app.add_exception_handler(RateLimitRefusedError, _render_refusal)


class RateLimitDependency:
    """``@app.get("/search", dependencies=[Depends(auth), Depends(RateLimitDependency(policy, cost=5))])``."""

    def __init__(
        self,
        policy: Policy,
        *,
        cost: int = 1,
        fail: FailMode = "open",
        timeout_s: float = 0.1,
        enforcer: Enforcer | None = None,
    ) -> None:
        self.rule = Rule(policy, RouteMatch(), cost=cost, fail=fail, timeout_s=timeout_s)
        self.enforcer = enforcer or Enforcer()

    async def __call__(self, request: Request, response: Response) -> None:
        verdict = await self.enforcer.check(self.rule, request)
        if not verdict.allowed:
            raise RateLimitRefusedError(self.enforcer.refusal(verdict, request.scope))
        response.headers.update(verdict.headers)
