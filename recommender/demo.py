"""``answers demo 1``: the recommender service live on a small synthetic model, beside the committed figures.

Trains a small artifact in a temp folder, runs the real app in process (embedded mode: memory cache and
history), and walks one story: a new user gets the popular list, naming two items gives a personal one, a
known
user's list (computed, then cached), a play that invalidates it, similar items. Latencies here are one request
in one process, only indicative; ``make bench-recommender`` measures the service under Locust.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from threadpoolctl import threadpool_limits

from observability.results import RESULTS_DIR
from recommender.data import synthetic
from recommender.live import catalog_aligned
from recommender.service import create_app
from recommender.settings import RecommenderSettings
from recommender.train import DEFAULT_PARAMS, train


async def _story(models: Path) -> list[tuple[str, str, str, str, float]]:
    app = create_app(RecommenderSettings(mode="embedded", models_dir=models, redis_url=None))
    rows: list[tuple[str, str, str, str, float]] = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://demo") as client,
    ):

        async def get(step: str, path: str) -> dict[str, Any]:
            started = time.perf_counter()
            response = await client.get(path)
            ms = (time.perf_counter() - started) * 1000
            body: dict[str, Any] = response.json()
            top = ", ".join(entry["item_id"] for entry in body.get("items", [])[:5])
            rows.append((step, path, response.headers.get("x-cache", "-"), top, ms))
            return body

        await get("new user: cold start", "/users/900001/recommendations?k=5")
        await get("new user naming items", "/users/900001/recommendations?k=5&seed_items=1,2")
        first = await get("known user (computed)", "/users/1/recommendations?k=5")
        await get("known user (cached)", "/users/1/recommendations?k=5")
        top = first["items"][0]["item_id"]
        started = time.perf_counter()
        await client.post("/users/1/plays", json={"plays": [{"item_id": top}]})
        rows.append(
            ("play the top item", "POST /users/1/plays", "-", top, (time.perf_counter() - started) * 1000)
        )
        await get("after the play (recomputed)", "/users/1/recommendations?k=5")
        await get("similar to that item", f"/items/{top}/similar?k=5")
    return rows


def _committed() -> dict[str, Any]:
    path = RESULTS_DIR / "recommender.json"
    return json.loads(path.read_text()).get("serving", {}) if path.exists() else {}


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="recommender-demo-") as tmp,
        contextlib.redirect_stdout(io.StringIO()),  # the app's JSON logs stay out of the table
        threadpool_limits(1),
    ):
        data = catalog_aligned(synthetic(n_users=300, n_items=500))
        train(data, Path(tmp), params={**DEFAULT_PARAMS, "factors": 32, "iterations": 8})
        rows = asyncio.run(_story(Path(tmp)))
    table = Table(title="recommender: one user's story, live (synthetic, 300 users x 500 items)")
    for column in ("step", "request", "cache", "top items", "ms"):
        table.add_column(column, justify="right" if column == "ms" else "left")
    for step, path, cache, top, ms in rows:
        table.add_row(step, path, cache, top, f"{ms:.1f}")
    console = Console(width=max(Console().width, 120))
    console.print(table)
    full = _committed()
    if full:
        console.print(
            f"full (make bench-recommender, Locust): max {full.get('max_rps')} rps; at {full.get('rps')} rps "
            f"p50 {full.get('p50_ms')} ms, p99 {full.get('p99_ms')} ms, "
            f"cached p99 {full.get('cached_p99_ms')} ms"
        )
    else:
        console.print("full: not measured yet; run make bench-recommender")
