"""RED metrics (Rate, Errors, Duration) per route, as a pure ASGI middleware, and the ``/metrics`` page.

Three series families, named as Prometheus recommends (https://prometheus.io/docs/practices/naming/):
``http_requests_total{service,method,route,status}`` (rate and errors), ``http_request_duration_seconds`` (a
histogram: aggregatable across instances, unlike a summary's quantiles; buckets bracket the 250 ms latency
SLO) and ``http_requests_in_progress`` (saturation). Labels are bounded: ``route`` is the template, ``method``
is one of the standard verbs or ``OTHER``, ``status`` a 3-digit code.

Speed: no BaseHTTPMiddleware (it wraps every response in streams and tasks), and label children are cached in
plain dicts, because ``Metric.labels()`` takes a lock and builds tuples on every call. With several worker
processes (``PROMETHEUS_MULTIPROC_DIR`` set) prometheus-client writes values to per-process files and
``/metrics`` sums them.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.routes import RouteTemplates

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})

# Created once per process in the default registry and shared by every app in it (``service`` tells them
# apart): registering the same name twice would raise.
REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled, by route template and status.",
    ["service", "method", "route", "status"],
)  # fmt: skip
DURATION = Histogram(
    "http_request_duration_seconds", "Time from request start to the last response byte.",
    ["service", "method", "route"], buckets=BUCKETS,
)  # fmt: skip
IN_PROGRESS = Gauge(
    "http_requests_in_progress", "Requests being handled right now.",
    ["service", "method"], multiprocess_mode="livesum",
)  # fmt: skip


def normalise_method(method: str) -> str:
    return method if method in METHODS else "OTHER"  # arbitrary verbs must not mint label values


class MetricsMiddleware:
    """Count, time and track in-flight HTTP requests of one service."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        self._routes: RouteTemplates | None = None
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._durations: dict[tuple[str, str], Any] = {}
        self._in_progress: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._routes is None:
            self._routes = RouteTemplates.of(scope["app"])
        root_path = scope.get("root_path", "")
        method = normalise_method(scope["method"])
        status = 500  # what the client gets if the app raises before answering
        finished = 0.0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # background tasks run after this point: they are not part of the client's wait
                finished = time.perf_counter()
            await send(message)

        in_progress = self._in_progress.get(method)
        if in_progress is None:
            in_progress = self._in_progress[method] = IN_PROGRESS.labels(self.service, method)
        in_progress.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException:
            status = 500  # even if a 200 header went out, the response broke: that is an error for the SLO
            raise
        finally:
            elapsed = (finished or time.perf_counter()) - started
            in_progress.dec()
            route = self._routes.template(scope, root_path)
            key = (method, route, status)
            counter = self._requests.get(key)
            if counter is None:
                counter = self._requests[key] = REQUESTS.labels(self.service, method, route, str(status))
            counter.inc()
            histogram = self._durations.get((method, route))
            if histogram is None:
                histogram = self._durations[method, route] = DURATION.labels(self.service, method, route)
            histogram.observe(elapsed)


def exposition() -> bytes:
    """The text format of every metric this process (or, in multiprocess mode, every worker) knows."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()  # fresh per scrape, as prometheus-client's multiprocess docs prescribe
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call] # untyped upstream
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_endpoint(_request: Request) -> Response:
    # sync on purpose: Starlette runs it in the thread pool, so a large scrape never stalls the event loop
    # generate_latest() writes the classic text format, so we label it 0.0.4 (what prometheus-client's own
    # server sends without negotiation); every Prometheus version parses it.
    return Response(exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
