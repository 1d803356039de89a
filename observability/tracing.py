"""OpenTelemetry tracing: a server span per request (FastAPI) and a client span per outgoing call (httpx).

The W3C ``traceparent`` header carries the trace across services, so one trace shows where a slow request
spent its time; the log processor in ``logging.py`` stamps the same ``trace_id`` on every log line, which is
how a log line leads to its trace and back. Spans are exported over OTLP/HTTP only when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (e.g. Jaeger's collector in docker-compose); otherwise they are still
created, so ids appear in logs, but go nowhere. Sampling is the SDK's standard configuration
(``OTEL_TRACES_SAMPLER``, ``OTEL_TRACES_SAMPLER_ARG``); an unsampled request still has ids for its log lines.
Probe and scrape endpoints are not traced, and the per-message ASGI send/receive spans are skipped: they
multiply the span count without telling anything a route-level span does not.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from observability.settings import ObservabilitySettings

UNTRACED_PATHS = "/healthz$,/readyz$,/metrics$"

_providers: dict[str, TracerProvider] = {}
_httpx_instrumented = False


def span_exporter(settings: ObservabilitySettings) -> SpanExporter | None:
    """The OTLP/HTTP exporter when an endpoint is configured, else None: nothing leaves the process."""
    if not settings.otel_exporter_otlp_endpoint:
        return None
    return OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces")


def tracer_provider(service: str, settings: ObservabilitySettings | None = None) -> TracerProvider:
    """One provider per service name and process; the first one also becomes the global provider."""
    provider = _providers.get(service)
    if provider is None:
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
        exporter = span_exporter(settings or ObservabilitySettings())
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))  # batches off the request path
        _providers[service] = provider
        if not _providers_set_globally():
            trace.set_tracer_provider(provider)
    return provider


def _providers_set_globally() -> bool:
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def disable_native_tracing(app: FastAPI) -> None:
    """Keep FastAPI's built-in telemetry (0.16x) from tracing an app whose owner said ``tracing=False``.

    FastAPI traces natively as soon as *any* global tracer provider exists in the process; its switch is
    ``FastAPI(telemetry={"tracing": False})`` at construction, which we cannot reach from ``instrument()``,
    so we flip the same setting in the config it keeps.
    """
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config["tracing"] = False


def instrument_tracing(app: FastAPI, service: str, settings: ObservabilitySettings | None = None) -> None:
    global _httpx_instrumented  # noqa: PLW0603 - httpx is patched process-wide, exactly once
    provider = tracer_provider(service, settings)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls=UNTRACED_PATHS, exclude_spans=["receive", "send"]
    )
    if not _httpx_instrumented:
        HTTPXClientInstrumentor().instrument(tracer_provider=provider)
        _httpx_instrumented = True
