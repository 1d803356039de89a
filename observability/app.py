"""``instrument(app, service=...)``: the one call that makes a FastAPI service observable.

Order matters. The request-context middleware must be the outermost of the app's middleware so that *every*
response, including a rate limiter's 429 added later by the service, carries the request id, is logged and is
counted; metrics sit just inside it. Starlette puts the last-added middleware outermost, so instead of relying
on the caller's order we move ours to the front when the stack is built. Tracing wraps the whole stack from
outside (FastAPIInstrumentor), so the span is current in every log line, the access line included.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from prometheus_client import disable_created_metrics
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.types import ASGIApp

from observability.access import RequestContextMiddleware
from observability.errors import install_error_handlers
from observability.health import DependencyCheck, add_health_routes
from observability.logging import configure_logging, logging_configured
from observability.metrics import MetricsMiddleware, metrics_endpoint
from observability.settings import ObservabilitySettings
from observability.tracing import disable_native_tracing, instrument_tracing

_OURS: tuple[object, ...] = (RequestContextMiddleware, MetricsMiddleware)


def instrument(
    app: FastAPI, *, service: str, checks: Sequence[DependencyCheck] = (), tracing: bool = True
) -> None:
    """Add request ids, access logs, RED metrics, error envelopes, /metrics /healthz /readyz and tracing.

    Logging is configured here (``LOG_LEVEL``) unless ``configure_logging`` already ran in this process.
    """
    if getattr(app.state, "observability_service", None) is not None:
        raise RuntimeError(f"app is already instrumented as {app.state.observability_service!r}")
    app.state.observability_service = service
    settings = ObservabilitySettings()
    if not logging_configured():
        configure_logging(service, settings.log_level)
    # The *_created series would double the number of series Prometheus stores (text format 0.0.4 exposes
    # them as separate gauges) for a start timestamp nobody queries.
    disable_created_metrics()  # type: ignore[no-untyped-call] # untyped upstream
    install_error_handlers(app)
    add_health_routes(app, checks)
    app.add_api_route(
        "/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False, response_class=Response
    )
    app.add_middleware(MetricsMiddleware, service=service)
    app.add_middleware(RequestContextMiddleware)
    _keep_ours_outermost(app)
    if tracing:
        instrument_tracing(app, service, settings)
    else:
        disable_native_tracing(app)


def _keep_ours_outermost(app: FastAPI) -> None:
    build = app.build_middleware_stack

    def build_with_ours_first() -> ASGIApp:
        ours = sorted((m for m in app.user_middleware if m.cls in _OURS), key=lambda m: _OURS.index(m.cls))
        others: list[Middleware] = [m for m in app.user_middleware if m.cls not in _OURS]
        app.user_middleware[:] = [*ours, *others]
        return build()

    app.build_middleware_stack = build_with_ours_first  # type: ignore[method-assign] # see module docstring
