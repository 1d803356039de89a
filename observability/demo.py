"""``answers demo 8``: a small instrumented service, a few hundred requests, and what the tools saw.

``create_app()`` is a tiny catalogue service built on ``instrument()`` (also started by uvicorn in the tests,
with several workers). ``main()`` runs it in-process over httpx's ASGI transport, fires a mixed load
(successes, 404s from ``ApiError``, 422s, unhandled 500s, slow calls, random unknown paths), then prints one
access log line, RED metrics per route read back from ``/metrics``, the ``/readyz`` body with a failing
optional cache, and the committed benchmark figures from ``results/observability.json``. It writes nothing to
disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from observability import ApiError, DependencyCheck, get_logger, instrument
from observability.results import RESULTS_DIR

SERVICE = "demo-catalog"
ITEMS = 1000
FIGURES = ("bare_rps", "ours_rps", "anchor_rps", "full_rps", "ours_vs_bare", "ours_vs_anchor")


class NewItem(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price_cents: int = Field(ge=0)


def create_app(*, cache_up: bool = True, service: str = SERVICE) -> FastAPI:
    """The demo service; ``cache_up=False`` makes its optional cache check fail (readiness: degraded)."""
    app = FastAPI(title="observability demo")
    log = get_logger("demo")

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, Any]:
        if not 0 < item_id <= ITEMS:
            raise ApiError(404, "item_not_found", f"No item {item_id}")
        return {"id": item_id, "name": f"item {item_id}"}

    @app.post("/items", status_code=201)
    async def create_item(item: NewItem) -> dict[str, Any]:
        log.info("item_created", name=item.name)
        return {"id": ITEMS + 1, **item.model_dump()}

    @app.get("/slow")
    async def slow(ms: int = 300) -> dict[str, int]:
        await asyncio.sleep(ms / 1000)
        return {"slept_ms": ms}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the database driver raised something nobody expected")

    @app.get("/worker")
    async def worker() -> dict[str, int]:
        return {"pid": os.getpid()}  # which worker process answered (multi-worker metrics test)

    async def database() -> bool:
        return True

    async def cache() -> bool:
        if not cache_up:
            raise ConnectionError("cache at 127.0.0.1:6390 refused the connection")
        return True

    checks = [DependencyCheck("database", database), DependencyCheck("cache", cache, required=False)]
    instrument(app, service=service, checks=checks)
    return app


async def _traffic(client: httpx.AsyncClient, rng: random.Random) -> None:
    requests: list[tuple[str, str, dict[str, Any] | None]] = []
    requests += [("GET", f"/items/{rng.randint(1, ITEMS + 200)}", None) for _ in range(220)]
    requests += [("POST", "/items", {"name": "", "price_cents": -5}) for _ in range(15)]
    requests += [("POST", "/items", {"name": "lamp", "price_cents": 1999}) for _ in range(15)]
    requests += [("GET", f"/slow?ms={rng.choice((20, 120, 400))}", None) for _ in range(20)]
    requests += [("GET", "/boom", None) for _ in range(8)]
    requests += [("GET", f"/wp-admin/{rng.getrandbits(40):x}.php", None) for _ in range(40)]  # a crawler
    rng.shuffle(requests)
    semaphore = asyncio.Semaphore(4)  # a few clients at a time: latency, not queueing

    async def one(method: str, url: str, body: dict[str, Any] | None) -> None:
        async with semaphore:
            await client.request(method, url, json=body)

    await asyncio.gather(*(one(*request) for request in requests))


async def _observe() -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
    app = create_app(cache_up=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    captured = io.StringIO()
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        with contextlib.redirect_stdout(captured):  # our log handler writes to whatever stdout is now
            await _traffic(client, random.Random(8))
        metrics = (await client.get("/metrics")).text
        ready = (await client.get("/readyz")).json()
    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.startswith("{")]
    return lines, metrics, ready


def _red_table(metrics: str) -> Table:
    requests: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    fast: dict[tuple[str, str], float] = defaultdict(float)
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.labels.get("service") != SERVICE:
                continue
            key = (sample.labels.get("method", ""), sample.labels.get("route", ""))
            if sample.name == "http_requests_total":
                requests[key][sample.labels["status"][0] + "xx"] += sample.value
            elif sample.name == "http_request_duration_seconds_bucket" and sample.labels["le"] == "0.25":
                fast[key] = sample.value
    table = Table(title="RED per route, read back from /metrics (route = template, never the raw path)")
    for column in ("method", "route", "requests", "2xx", "4xx", "5xx", "<= 250 ms"):
        table.add_column(column, justify="left" if column in {"method", "route"} else "right")
    for (method, route), by_class in sorted(requests.items(), key=lambda kv: -sum(kv[1].values())):
        total = sum(by_class.values())
        table.add_row(
            method, route, f"{total:.0f}",
            *(f"{by_class.get(c, 0):.0f}" for c in ("2xx", "4xx", "5xx")),
            f"{fast[method, route] / total:.0%}",
        )  # fmt: skip
    return table


def _figures_table() -> Table:
    table = Table(title="Committed full-size figures (make bench-observability)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    path = RESULTS_DIR / "observability.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for key in FIGURES:
        value = data.get(key)
        table.add_row(key, "not measured yet" if value is None else f"{value:,.2f}")
    return table


def main() -> None:
    lines, metrics, ready = asyncio.run(_observe())
    console = Console()
    access = [line for line in lines if line.get("event") == "request"]
    failed = next(line for line in access if line["status"] == 500)
    error = next(line for line in lines if line.get("event") == "unhandled_exception")
    error["exception"] = f"[{len(error['exception'][0]['frames'])} frames, structured]"
    console.rule("Q8 demo: one instrumented service, observed")
    console.print(
        f"{len(access)} requests -> {len(access)} access lines (one each). A failed request's line:"
    )
    console.print_json(json.dumps(failed))
    console.print("and the error line it correlates with (same request_id and trace_id):")
    console.print_json(json.dumps(error))
    raw_paths = {line["path"] for line in access}
    routes = {line["route"] for line in access}
    console.print(f"{len(raw_paths)} distinct raw paths collapsed into {len(routes)} route label values.")
    console.print(_red_table(metrics))
    console.print("GET /readyz with the optional cache down (200, degraded; 503 only for a required one):")
    console.print_json(json.dumps(ready))
    console.print(_figures_table())
    if not Path(RESULTS_DIR / "observability.json").exists():
        console.print("Run `make bench-observability` to measure the overhead figures.")
