"""``answers demo 4``: v1 against v2 on a small live catalogue, beside the committed full-size figures.

Runs the real app in-process (httpx's ASGI transport) in embedded mode, on SQLite in a temp folder with a few
thousand tracks, so it needs no server: the N+1 (queries per request), the payload (bytes on the wire with
gzip) and the latency of each endpoint, v1 then v2. SQLite in one process is not PostgreSQL under load, so the
live latencies are only indicative; the committed figures come from ``make bench-catalog``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import event

from catalog.service import create_app
from catalog.settings import CatalogSettings
from observability.results import RESULTS_DIR

REPEATS = 3
ENDPOINTS = {
    "playlist": ("/{v}/playlists/50", ""),
    "deep_page": ("/{v}/tracks?limit=50", "offset=2500"),
    "artist_tracks": ("/{v}/artists/1/tracks?limit=50", ""),
    "library": ("/{v}/me/library?limit=50", ""),
}


async def _live(database: Path) -> dict[str, dict[str, dict[str, float]]]:
    settings = CatalogSettings(
        mode="embedded",
        database_url=f"sqlite+aiosqlite:///{database}",
        redis_url=None,
        embedded_seed_tracks=5000,
    )
    app = create_app(settings)
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    engine = app.state.catalog.databases.engines[0].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    transport = httpx.ASGITransport(app=app)
    figures: dict[str, dict[str, dict[str, float]]] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://demo") as client,
    ):
        token = (await client.post("/dev/token", json={"user_id": 50})).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        cursor = await _cursor_at(client, headers, 2500)
        for name, (template, v1_query) in ENDPOINTS.items():
            figures[name] = {}
            for version in ("v1", "v2"):
                url = template.format(v=version)
                extra = v1_query if version == "v1" else (f"cursor={cursor}" if v1_query else "")
                url = f"{url}&{extra}" if extra else url
                timings, queries, size = [], [], 0
                for _ in range(REPEATS):
                    before, started = statements[0], time.perf_counter()
                    response = await client.get(url, headers=headers)
                    timings.append((time.perf_counter() - started) * 1000)
                    queries.append(statements[0] - before)
                    size = int(response.headers.get("content-length", len(response.content)))
                figures[name][version] = {
                    "p50_ms": statistics.median(timings),
                    "queries": statistics.median(queries),
                    "bytes": size,
                }
    return figures


async def _cursor_at(client: httpx.AsyncClient, headers: dict[str, str], offset: int) -> str:
    """The v2 cursor of the row just before ``offset``: where a client scrolling that far would be."""
    page = (await client.get("/v2/tracks?limit=100", headers=headers)).json()
    for _ in range(offset // 100 - 1):
        page = (
            await client.get(f"/v2/tracks?limit=100&cursor={page['page']['next']}", headers=headers)
        ).json()
    return str(page["page"]["next"])


def _committed() -> dict[str, Any]:
    path = RESULTS_DIR / "catalog.json"
    return json.loads(path.read_text()).get("endpoints", {}) if path.exists() else {}


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="catalog-demo-") as tmp,
        contextlib.redirect_stdout(io.StringIO()),
    ):
        live = asyncio.run(_live(Path(tmp) / "catalog.sqlite3"))  # the app's JSON logs stay out of the table
    committed = _committed()
    table = Table(title="catalog: v1 (as first written) vs v2 (optimised)", title_justify="left")
    for column in (
        "endpoint",
        "version",
        "live p50 ms",
        "live queries",
        "live bytes",
        "full p95 ms",
        "full rps",
    ):
        table.add_column(
            column, justify="left" if column in ("endpoint", "version") else "right", no_wrap=True
        )
    for name, versions in live.items():
        for version, f in versions.items():
            full = committed.get(name, {}).get(version, {})
            table.add_row(
                name if version == "v1" else "",
                version,
                f"{f['p50_ms']:.1f}",
                f"{f['queries']:.0f}",
                f"{f['bytes']:,.0f}",
                _fmt(full.get("p95_ms")),
                _fmt(full.get("rps")),
                end_section=version == "v2",
            )
    console = Console(width=max(Console().width, 100))
    console.print(table)
    note = "full: results/catalog.json (make bench-catalog: 1M tracks on PostgreSQL, Locust)"
    console.print(note if committed else "full: not measured yet; run make bench-catalog")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


if __name__ == "__main__":
    main()
