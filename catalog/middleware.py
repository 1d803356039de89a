"""Two pure-ASGI middlewares: database queries per request (the N+1 detector), and gzip for ``/v2`` only.

``catalog_db_queries_per_request{route}`` is a histogram of how many statements one request sent: in
production an N+1 shows up as a route whose queries grow with the data, long before it shows up as latency;
the benchmark reads its ``_sum``/``_count`` for ``queries_per_request``. Gzip is applied to ``/v2`` alone so
``/v1`` stays as first written; Starlette's ``GZipMiddleware`` only compresses bodies above ``minimum_size``
(small bodies gain nothing and cost CPU) and only for clients that send ``Accept-Encoding: gzip``.
"""

from __future__ import annotations

from prometheus_client import Histogram
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog.db import start_counting, stop_counting
from observability.routes import RouteTemplates

QUERIES = Histogram(
    "catalog_db_queries_per_request",
    "SQL statements sent to the database while handling one request.",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
)


class QueryCountMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: RouteTemplates | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._routes is None:
            self._routes = RouteTemplates.of(scope["app"])
        root_path = scope.get("root_path", "")
        counter, token = start_counting()
        try:
            await self.app(scope, receive, send)
        finally:
            stop_counting(token)
            QUERIES.labels(self._routes.template(scope, root_path)).observe(counter.count)


class PrefixGZipMiddleware:
    """``GZipMiddleware`` for paths under ``prefix``; everything else passes untouched."""

    def __init__(
        self, app: ASGIApp, *, prefix: str, minimum_size: int = 1024, compresslevel: int = 5
    ) -> None:
        self.app = app
        self.prefix = prefix
        # level 5: nearly level 9's ratio on JSON at a fraction of its CPU (Starlette's default is 9)
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
