"""``answers demo 3``: a small live run of the benchmark, printed beside the committed full-size figures.

It needs PostgreSQL (``DATABASE_URL``, default the local server; the run uses a schema of its own, dropped
afterwards) and the ``redis-server`` program (the Redis side runs on private servers). It writes nothing to
``results/``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import psycopg

from datastores.bench import QUICK, BenchConfig, run
from datastores.redisserver import private_redis, redis_server_missing
from datastores.settings import DatastoreSettings
from datastores.table import comparison_table, results_table, wide_console
from observability.pg import libpq_url
from observability.results import RESULTS_DIR

COMMITTED = RESULTS_DIR / "datastores.json"
LIVE: BenchConfig = QUICK


def committed_figures(path: Path | None = None) -> tuple[dict[str, Any], str] | None:
    """The committed results and a one-line provenance, or None when ``make bench-datastores`` never ran."""
    path = path or COMMITTED
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    meta = data.get("meta", {})
    provenance = f"{meta.get('command', '?')} on {meta.get('date_utc', '?')}, {meta.get('cores', '?')} cores"
    return data, provenance


def missing_services(settings: DatastoreSettings) -> str | None:
    """Why the demo cannot run here, or None."""
    if redis_server_missing():
        return "the Q3 demo starts its own Redis servers: install redis-server (apt-get install redis-server)"
    try:
        with psycopg.connect(libpq_url(settings.database_url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return (
            f"the Q3 demo needs PostgreSQL at {settings.database_url} ({exc}). Start one (`docker compose up "
            "postgres` works) or point DATABASE_URL at one"
        )
    return None


def main() -> None:
    console = wide_console()
    settings = DatastoreSettings()
    if problem := missing_services(settings):
        console.print(f"[red]{problem}[/]")
        return
    with private_redis() as server:
        live = asyncio.run(run(LIVE, settings, server.url, console.log))
    console.print(results_table(live, f"Live, small: {live['workload']['plays']:,} plays"))
    committed = committed_figures()
    if committed is None:
        console.print(
            f"No committed figures at {COMMITTED}: run `make bench-datastores` for the full-size run."
        )
        return
    figures, provenance = committed
    console.print(comparison_table(live, figures, f"Live vs committed ({provenance})"))


if __name__ == "__main__":
    main()
