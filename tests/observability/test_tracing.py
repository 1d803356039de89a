"""Tracing: a server span per request, its ids in every log line, export only when an endpoint is set."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from observability import get_logger, instrument
from observability import tracing as obs_tracing
from observability.settings import ObservabilitySettings
from tests.observability.conftest import access_lines, json_lines

MakeClient = Callable[[FastAPI], httpx.AsyncClient]


def build(service: str, *, tracing: bool = True) -> tuple[FastAPI, list[tuple[int, int]]]:
    """An app whose handler logs a line and records the span that was current while it ran."""
    app = FastAPI()
    seen: list[tuple[int, int]] = []

    @app.get("/work/{n}")
    async def work(n: int) -> dict[str, int]:
        context = trace.get_current_span().get_span_context()
        seen.append((context.trace_id, context.span_id))
        get_logger("handler").info("working", n=n)
        return {"n": n}

    instrument(app, service=service, tracing=tracing)
    return app, seen


@pytest.mark.unit
def test_no_exporter_is_built_unless_an_otlp_endpoint_is_set() -> None:
    assert obs_tracing.span_exporter(ObservabilitySettings()) is None
    assert obs_tracing.span_exporter(ObservabilitySettings(otel_exporter_otlp_endpoint="  ")) is None
    exporter = obs_tracing.span_exporter(
        ObservabilitySettings(otel_exporter_otlp_endpoint="http://jaeger:4318/")
    )
    assert isinstance(exporter, OTLPSpanExporter)
    assert exporter._endpoint == "http://jaeger:4318/v1/traces"
    exporter.shutdown()  # type: ignore[no-untyped-call] # untyped upstream


@pytest.mark.integration
async def test_log_lines_carry_the_trace_and_span_ids_of_the_request_span(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    app, seen = build(service)
    client = make_client(app)
    await client.get("/work/1")
    await client.get("/work/2")
    lines = [line for line in json_lines(capsys.readouterr().out) if line["event"] in {"working", "request"}]
    assert len(lines) == 4
    for (trace_id, span_id), (handler, access) in zip(seen, [lines[0:2], lines[2:4]], strict=True):
        assert handler["trace_id"] == access["trace_id"] == f"{trace_id:032x}"
        assert handler["span_id"] == access["span_id"] == f"{span_id:016x}"
    assert seen[0][0] != seen[1][0]  # one trace per request


@pytest.mark.integration
async def test_an_incoming_traceparent_continues_the_callers_trace(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    app, seen = build(service)
    caller_trace = "4bf92f3577b34e8a9ec2b9d2a6c3c0e1"
    await make_client(app).get("/work/1", headers={"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"})
    [line] = access_lines(capsys.readouterr().out)
    assert line["trace_id"] == caller_trace == f"{seen[0][0]:032x}"


@pytest.mark.integration
async def test_with_tracing_off_there_is_no_span_and_no_trace_fields(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    app, seen = build(service, tracing=False)
    response = await make_client(app).get("/work/1")
    [line] = access_lines(capsys.readouterr().out)
    assert seen == [(0, 0)]
    assert "trace_id" not in line
    assert line["request_id"] == response.headers["x-request-id"]


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, int]]

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        self.rfile.read(length)
        self.received.append((self.path, self.headers["content-type"], length))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def otlp_collector() -> Iterator[tuple[str, list[tuple[str, str, int]]]]:
    """A stand-in OTLP/HTTP receiver on loopback that records what it was sent."""
    received: list[tuple[str, str, int]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.integration
async def test_spans_are_exported_over_otlp_http_when_an_endpoint_is_set(
    service: str,
    make_client: MakeClient,
    otlp_collector: tuple[str, list[tuple[str, str, int]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint, received = otlp_collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    app, _ = build(service)
    await make_client(app).get("/work/1")
    provider = obs_tracing.tracer_provider(service)
    try:
        assert provider.force_flush(timeout_millis=10_000)
    finally:
        provider.shutdown()
        obs_tracing._providers.pop(service)
    assert received
    assert all(path == "/v1/traces" and kind == "application/x-protobuf" for path, kind, _ in received)


@pytest.mark.integration
async def test_an_unsampled_request_still_has_trace_ids_in_its_log_lines(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Head sampling (the SDK's own OTEL_TRACES_SAMPLER) drops spans, never the log correlation."""
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    app, seen = build(service)
    await make_client(app).get("/work/1")
    [line] = access_lines(capsys.readouterr().out)
    assert obs_tracing.tracer_provider(service).sampler.get_description() == "AlwaysOffSampler"
    assert line["trace_id"] == f"{seen[0][0]:032x}" != "0" * 32
