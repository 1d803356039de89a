"""RED metrics: exact names, labels and buckets; bounded cardinality; sums that hold across workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from observability import instrument
from observability.metrics import BUCKETS, MemoryCollector, MemoryRecorder, normalise_method
from tests.observability.conftest import uvicorn_server

MakeClient = Callable[[FastAPI], httpx.AsyncClient]


def samples(text: str, name: str, service: str) -> list[Sample]:
    """Parse the page with prometheus-client's own parser (a malformed page raises) and pick one service."""
    return [
        sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and sample.labels.get("service") == service
    ]


def build(service: str) -> FastAPI:
    app = FastAPI()

    @app.api_route("/items/{item_id}", methods=["GET", "POST"])
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    instrument(app, service=service, tracing=False)
    return app


@pytest.mark.unit
@pytest.mark.parametrize(
    ("method", "label"), [("GET", "GET"), ("PATCH", "PATCH"), ("BREW", "OTHER"), ("get", "OTHER")]
)
def test_only_standard_methods_become_label_values(method: str, label: str) -> None:
    assert normalise_method(method) == label


@pytest.mark.integration
async def test_the_metrics_page_parses_and_counts_requests_by_method_route_and_status(
    service: str, make_client: MakeClient
) -> None:
    client = make_client(build(service))
    for path in ("/items/1", "/items/2", "/items/x", "/boom", "/nope"):
        await client.get(path)
    await client.post("/items/3")
    page = await client.get("/metrics")
    assert page.headers["content-type"].startswith("text/plain; version=0.0.4")
    counts = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in samples(page.text, "http_requests_total", service)
    }
    assert counts == {
        ("GET", "/items/{item_id}", "200"): 2,
        ("GET", "/items/{item_id}", "422"): 1,
        ("GET", "/boom", "500"): 1,
        ("GET", "<unmatched>", "404"): 1,
        ("POST", "/items/{item_id}", "200"): 1,
    }
    assert "_created" not in page.text  # no doubled series for start timestamps


@pytest.mark.integration
async def test_durations_use_the_agreed_buckets_and_in_progress_returns_to_zero(
    service: str, make_client: MakeClient
) -> None:
    client = make_client(build(service))
    await asyncio.gather(*(client.get(f"/items/{i}") for i in range(10)))
    page = (await client.get("/metrics")).text
    buckets = [s for s in samples(page, "http_request_duration_seconds_bucket", service)
               if s.labels["route"] == "/items/{item_id}"]  # fmt: skip
    assert [float(s.labels["le"]) for s in buckets] == [*BUCKETS, float("inf")]
    assert buckets[-1].value == 10
    assert set(buckets[0].labels) == {"service", "method", "route", "le"}
    in_progress = {s.labels["method"]: s.value for s in samples(page, "http_requests_in_progress", service)}
    assert in_progress == {"GET": 1.0}  # only the scrape itself


@pytest.mark.integration
async def test_a_thousand_distinct_raw_paths_yield_at_most_routes_plus_one_route_values(
    service: str, make_client: MakeClient
) -> None:
    app = build(service)
    client = make_client(app)
    paths = [f"/items/{i}" for i in range(400)] + [f"/scan/{i}/admin.php" for i in range(400)]
    paths += [f"/items/{i}/extra" for i in range(100)] + [f"/boom?n={i}" for i in range(100)]
    assert len(set(paths)) == 1000
    for path in paths:
        await client.get(path)
    page = (await client.get("/metrics")).text
    routes = {s.labels["route"] for s in samples(page, "http_requests_total", service)}
    app_routes = {r.path for r in app.routes}  # type: ignore[attr-defined]
    assert len(routes) <= len(app_routes) + 1
    assert routes == {"/items/{item_id}", "/boom", "<unmatched>"}


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    """uvicorn with 2 worker processes sharing one prometheus-client multiprocess directory."""
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir), "LOG_LEVEL": "WARNING"}
    with uvicorn_server(tmp_path, workers=2, env=env) as (url, _log):
        yield url


@pytest.mark.integration
async def test_metrics_add_up_across_two_uvicorn_workers(two_workers: str) -> None:
    """Whichever worker answers a scrape, the counter is the sum of both workers' requests."""
    served_by: dict[int, int] = {}
    sent = 0
    limits = httpx.Limits(
        max_keepalive_connections=0
    )  # a new connection per request: the kernel spreads them
    async with httpx.AsyncClient(base_url=two_workers, limits=limits, timeout=10) as client:
        while len(served_by) < 2 or sent < 200:
            assert sent < 2000, f"one worker served everything: {served_by}"
            batch = await asyncio.gather(*(client.get("/worker") for _ in range(20)))
            for response in batch:
                pid = response.json()["pid"]
                served_by[pid] = served_by.get(pid, 0) + 1
            sent += len(batch)
        pages = [(await client.get("/metrics")).text for _ in range(4)]
    for page in pages:
        [total] = [s.value for s in samples(page, "http_requests_total", "demo-catalog")
                   if s.labels["route"] == "/worker"]  # fmt: skip
        assert total == sent


@pytest.mark.unit
def test_the_in_memory_recorder_exposes_exactly_what_prometheus_client_objects_would() -> None:
    """Same observations, same samples: bucket edges inclusive (le), cumulative counts, +Inf, sum, count."""
    reference = CollectorRegistry()
    counter = Counter("http_requests", "", ["service", "method", "route", "status"], registry=reference)
    labels = ["service", "method", "route"]
    histogram = Histogram("http_request_duration_seconds", "", labels, buckets=BUCKETS, registry=reference)
    ours = MemoryRecorder()
    for seconds in (0.0, 0.001, 0.005, 0.0051, 0.25, 0.2500001, 3.0, 10.0, 11.0, 99.0):
        ours.started("GET")
        ours.finished("GET", "/x", 200, seconds)
        counter.labels("svc", "GET", "/x", "200").inc()
        histogram.labels("svc", "GET", "/x").observe(seconds)

    def comparable(families: Iterable[Metric]) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
        return {
            (s.name, tuple(sorted(s.labels.items())), round(s.value, 9))
            for family in families
            for s in family.samples
            if not s.name.endswith("_created") and family.name != "http_requests_in_progress"
        }

    assert comparable(MemoryCollector.families({"svc": ours})) == comparable(reference.collect())
    assert ours.in_progress == {"GET": 0}
