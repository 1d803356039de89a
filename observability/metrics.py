"""RED metrics (Rate, Errors, Duration) per route, as a pure ASGI middleware, and the ``/metrics`` page.

Three families, named as Prometheus recommends (https://prometheus.io/docs/practices/naming/):
``http_requests_total{service,method,route,status}`` (rate and errors), ``http_request_duration_seconds`` (a
histogram: aggregatable across instances, unlike a summary's quantiles; a bucket at the 250 ms SLO) and
``http_requests_in_progress`` (saturation). Labels are bounded: ``route`` is the template, ``method`` one of
the standard verbs or ``OTHER``, ``status`` a 3-digit code.

Speed: the middleware is pure ASGI (BaseHTTPMiddleware adds a task and memory streams per request), and in a
single process it records into plain dicts and integers: the event loop is the only writer, so the locks that
prometheus-client takes on every ``inc()``/``observe()`` buy nothing; a collector turns the counts into the
same three families when Prometheus scrapes. With several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set)
the values must live in prometheus-client's per-process files so that ``/metrics`` can sum them: there the
prometheus-client objects below are the storage, their label children cached (``labels()`` is slow).
"""

from __future__ import annotations

import os
import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator
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
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.routes import RouteTemplates

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
# prometheus-client reads this once, at import, to choose its value storage; so do we.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

_DOC_REQUESTS = "HTTP requests handled, by route template and status."
_DOC_DURATION = "Time from request start to the last response byte."
_DOC_IN_PROGRESS = "Requests being handled right now."
_registry = REGISTRY if MULTIPROCESS else None  # single process: the collector below exposes these names
REQUESTS = Counter(
    "http_requests", _DOC_REQUESTS, ["service", "method", "route", "status"], registry=_registry
)
DURATION = Histogram(
    "http_request_duration_seconds", _DOC_DURATION, ["service", "method", "route"], buckets=BUCKETS,
    registry=_registry,
)  # fmt: skip
IN_PROGRESS = Gauge(
    "http_requests_in_progress", _DOC_IN_PROGRESS, ["service", "method"], multiprocess_mode="livesum",
    registry=_registry,
)  # fmt: skip


def normalise_method(method: str) -> str:
    return method if method in METHODS else "OTHER"  # arbitrary verbs must not mint label values


class _Histogram:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # per bucket, not cumulative; the last one is +Inf
        self.total = 0.0


class MemoryRecorder:
    """One service's counts in plain Python objects, written only from the event loop thread."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.durations: dict[tuple[str, str], _Histogram] = {}
        self.in_progress: dict[str, int] = {}

    def started(self, method: str) -> None:
        self.in_progress[method] = self.in_progress.get(method, 0) + 1

    def finished(self, method: str, route: str, status: int, seconds: float) -> None:
        self.in_progress[method] -= 1
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        histogram = self.durations.get((method, route))
        if histogram is None:
            histogram = self.durations[method, route] = _Histogram()
        histogram.counts[bisect_left(BUCKETS, seconds)] += 1  # first bucket whose bound is >= seconds
        histogram.total += seconds


class PrometheusRecorder:
    """One service's counts in prometheus-client objects (multiprocess mode), label children cached."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._durations: dict[tuple[str, str], Any] = {}
        self._in_progress: dict[str, Any] = {}

    def _gauge(self, method: str) -> Any:
        gauge = self._in_progress.get(method)
        if gauge is None:
            gauge = self._in_progress[method] = IN_PROGRESS.labels(self.service, method)
        return gauge

    def started(self, method: str) -> None:
        self._gauge(method).inc()

    def finished(self, method: str, route: str, status: int, seconds: float) -> None:
        self._gauge(method).dec()
        counter = self._requests.get((method, route, status))
        if counter is None:
            counter = self._requests[method, route, status] = REQUESTS.labels(
                self.service, method, route, status
            )
        counter.inc()
        histogram = self._durations.get((method, route))
        if histogram is None:
            histogram = self._durations[method, route] = DURATION.labels(self.service, method, route)
        histogram.observe(seconds)


Recorder = MemoryRecorder | PrometheusRecorder
_recorders: dict[str, Recorder] = {}  # per service: two apps of one service add up, as labels would


def recorder(service: str) -> Recorder:
    found = _recorders.get(service)
    if found is None:
        found = _recorders[service] = PrometheusRecorder(service) if MULTIPROCESS else MemoryRecorder()
    return found


class MemoryCollector(Collector):
    """Exposes every service's ``MemoryRecorder`` as the three RED families, at scrape time."""

    def describe(self) -> Iterable[Metric]:
        return self.families()

    def collect(self) -> Iterable[Metric]:
        return self.families(_recorders)

    @staticmethod
    def families(recorders: dict[str, Recorder] | None = None) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "http_requests", _DOC_REQUESTS, labels=["service", "method", "route", "status"]
        )
        durations = HistogramMetricFamily(
            "http_request_duration_seconds", _DOC_DURATION, labels=["service", "method", "route"]
        )
        in_progress = GaugeMetricFamily(
            "http_requests_in_progress", _DOC_IN_PROGRESS, labels=["service", "method"]
        )
        bounds = [*(str(bound) for bound in BUCKETS), "+Inf"]
        # list(...) copies in one step under the GIL: the event loop may add keys while a scrape thread reads
        for service, found in list((recorders or {}).items()):
            if not isinstance(found, MemoryRecorder):
                continue
            for (method, route, status), count in list(found.requests.items()):
                requests.add_metric([service, method, route, str(status)], count)
            for (method, route), histogram in list(found.durations.items()):
                counts, running, cumulative = list(histogram.counts), 0, []
                for bound, count in zip(bounds, counts, strict=True):
                    running += count
                    cumulative.append((bound, running))
                durations.add_metric([service, method, route], cumulative, histogram.total)
            for method, count in list(found.in_progress.items()):
                in_progress.add_metric([service, method], count)
        yield from (requests, durations, in_progress)


if not MULTIPROCESS:
    REGISTRY.register(MemoryCollector())


class MetricsMiddleware:
    """Count, time and track in-flight HTTP requests of one service."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        self._recorder = recorder(service)
        self._routes: RouteTemplates | None = None

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
            elif not message.get("more_body", False):
                # the last body chunk: background tasks run after it and are not part of the client's wait
                finished = time.perf_counter()
            await send(message)

        self._recorder.started(method)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException:
            status = 500  # even if a 200 header went out, the response broke: that is an error for the SLO
            raise
        finally:
            seconds = (finished or time.perf_counter()) - started
            self._recorder.finished(method, self._routes.template(scope, root_path), status, seconds)


def exposition() -> bytes:
    """The text format of every metric this process (or, in multiprocess mode, every worker) knows."""
    if MULTIPROCESS:
        registry = CollectorRegistry()  # fresh per scrape, as prometheus-client's multiprocess docs prescribe
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call] # untyped upstream
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_endpoint(_request: Request) -> Response:
    # sync on purpose: Starlette runs it in the thread pool, so a large scrape never stalls the event loop.
    # generate_latest() writes the classic text format, so we label it 0.0.4 (what prometheus-client's own
    # server sends without negotiation); every Prometheus version parses it.
    return Response(exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
