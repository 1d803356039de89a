"""``make bench-catalog``: v1 on the first schema against v2 on the optimised one, same run, same data.

1. A dedicated schema (``catalog_bench``) on the shared PostgreSQL (or ``DATABASE_URL``), migrated to
   revision 0001, the one before "optimise"; 1M tracks, 100k playlists (10 to 5,000 tracks) and libraries
   seeded with COPY.
2. ``EXPLAIN (ANALYZE, BUFFERS)`` of the key queries, then the service under uvicorn on CPU 0 and Locust on
   CPU 1, one closed-loop run per endpoint against ``/v1``.
3. ``alembic upgrade`` to 0002 ("optimise", indexes built concurrently while the service runs), the plans
   again, one run per endpoint against ``/v2``, then the single-technique probes.
4. ``results/catalog.json`` (``endpoints.<name>.v1|v2``: p50/p95/p99 ms, rps, queries per request, bytes),
   ``results/catalog.png`` and the plans in ``results/catalog_plans/``. Target: v2's p95 at least 10x better
   on ``playlist`` and ``deep_page``. ``--quick`` does all of it on small data in seconds, into a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from catalog import explain, loadrun, probes
from catalog.chart import plot
from catalog.cursor import CursorCodec
from catalog.db import BEFORE_OPTIMISE, OPTIMISE
from catalog.rows import SeedSpec
from catalog.schemas import from_micros, micros
from catalog.seed import progress_ticker, seed_postgres
from catalog.settings import DEFAULT_DATABASE_URL, CatalogSettings
from catalog.targets import ENDPOINTS, build_targets
from catalog.tokens import TokenIssuer, generate_key
from observability.pg import driver_url, libpq_url
from observability.results import write_results

TOPIC = "catalog"
COMMAND = "make bench-catalog"
ROUTES = {
    "playlist": "/{v}/playlists/{{playlist_id}}",
    "deep_page": "/{v}/tracks",
    "artist_tracks": "/{v}/artists/{{artist_id}}/tracks",
    "library": "/{v}/me/library",
}
TARGET_SPEEDUP = 10.0


@dataclass(frozen=True)
class BenchConfig:
    spec: SeedSpec
    load: loadrun.Load
    count: int  # distinct requests per endpoint and version
    schema: str
    mixed: bool = False  # one Locust run for all endpoints (quick smoke) instead of one per endpoint


FULL = BenchConfig(SeedSpec(), loadrun.Load(users=4, duration_s=30), count=100, schema="catalog_bench")
QUICK = BenchConfig(
    SeedSpec(tracks=10_000, playlists=500, users=200, hero_every=25, hero_size=300, max_playlist=600),
    loadrun.Load(users=2, duration_s=4),
    count=8,
    schema=f"catalog_quick_{uuid.uuid4().hex[:8]}",
    mixed=True,
)


def migrate(database_url: str, schema: str, revision: str) -> float:
    from alembic import command  # noqa: PLC0415 - alembic's import is slow; the service never needs it
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", "catalog:migrations")
    config.set_main_option("sqlalchemy.url", driver_url(database_url, "psycopg"))
    config.set_main_option("schema", schema)
    started = time.perf_counter()
    command.upgrade(config, revision)
    return round(time.perf_counter() - started, 2)


def _sql(database_url: str, statement: sql.Composed | sql.SQL) -> None:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(statement)


def _subjects(database_url: str, schema: str, spec: SeedSpec, targets: dict[str, Any]) -> explain.Subjects:
    deep = targets["deep_page"]["v1"][0][0]
    offset = int(deep.rsplit("offset=", 1)[1])
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        key = conn.execute(
            "SELECT released_at, id FROM tracks ORDER BY released_at DESC, id DESC OFFSET %s LIMIT 1",
            (offset - 1,),
        ).fetchone()
        artist = conn.execute(
            "SELECT artist_id FROM tracks GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()
    if key is None or artist is None:
        raise RuntimeError("the seeded schema has no tracks")
    playlist = int(targets["playlist"]["v1"][0][0].rsplit("/", 1)[1])
    return explain.Subjects(
        playlist, offset, (from_micros(micros(key[0])), int(key[1])), int(artist[0]), spec.hero_every
    )


def _warm(base_url: str, entries: list[list[str]]) -> None:
    """A few requests first: connections, buffers and prepared plans warm, as in steady state."""
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for path, token in entries[:3]:
            client.get(path, headers={"Authorization": f"Bearer {token}"})


def _measure(
    base_url: str, targets_file: Path, version: str, config: BenchConfig, workdir: Path
) -> dict[str, Any]:
    """One Locust run per endpoint (full), or one mixed run split by endpoint afterwards (``--quick``)."""
    targets = json.loads(targets_file.read_text())
    runs = [("all", list(ENDPOINTS))] if config.mixed else [(name, [name]) for name in ENDPOINTS]
    figures: dict[str, Any] = {}
    for run_name, names in runs:
        for name in names:
            _warm(base_url, targets[name][version])
        before = loadrun.query_totals(base_url)
        log = loadrun.run_locust(
            base_url, targets_file, endpoint=run_name, version=version, load=config.load, workdir=workdir
        )
        after = loadrun.query_totals(base_url)
        for name in names:
            stats = loadrun.summarise(log, config.load.duration_s, name)
            stats["queries_per_request"] = loadrun.queries_per_request(
                before, after, ROUTES[name].format(v=version)
            )
            figures[name] = stats
            print(
                f"  {version} {name:>13}: p95 {stats['p95_ms']:>9.2f} ms, {stats['rps']:>7.1f} rps, "
                f"{stats['queries_per_request']:>7.1f} queries, {stats['bytes']:>8,.0f} bytes"
            )
    return figures


def _seed(database_url: str, schema: str, spec: SeedSpec) -> tuple[dict[str, int], float]:
    """A fresh schema at revision 0001, filled with COPY, vacuumed and analysed as in steady state."""
    _sql(database_url, sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    migrate(database_url, schema, BEFORE_OPTIMISE)
    started = time.perf_counter()
    columns = (TextColumn("{task.description:>16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as progress:
        counts = seed_postgres(database_url, schema, spec, progress_ticker(progress, spec))
    seed_s = round(time.perf_counter() - started, 1)
    for table in counts:  # only our tables: the database is shared
        _sql(
            database_url,
            sql.SQL("VACUUM ANALYZE {}.{}").format(sql.Identifier(schema), sql.Identifier(table)),
        )
    return counts, seed_s


def _cold_playlists(database_url: str, schema: str, spec: SeedSpec) -> list[int]:
    """Hero playlists from the end of the id range: never requested by the load runs, so not cached."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        rows = conn.execute(
            "SELECT id FROM playlists WHERE id %% %s = 0 ORDER BY id DESC LIMIT 10", (spec.hero_every,)
        ).fetchall()
    return [int(r[0]) for r in rows]


def run(
    config: BenchConfig, database_url: str, redis_url: str | None, results_dir: Path | None, keep: bool
) -> Path:
    spec, schema = config.spec, config.schema
    workdir = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    prefix = f"catalog-bench-{uuid.uuid4().hex[:8]}:"
    try:
        counts, seed_s = _seed(database_url, schema, spec)
        key, secret = generate_key("EdDSA"), secrets.token_hex(16)
        issuer, codec = TokenIssuer(key), CursorCodec(secret.encode())
        targets = build_targets(database_url, schema, spec, issuer=issuer, codec=codec, count=config.count)
        targets_file = workdir / "targets.json"
        targets_file.write_text(json.dumps(targets))
        subjects = _subjects(database_url, schema, spec, targets)
        out_dir = results_dir or Path(__file__).resolve().parent.parent / "results"
        plans_dir = out_dir / "catalog_plans"
        shutil.rmtree(plans_dir, ignore_errors=True)
        plans_before = explain.save(
            explain.explain(database_url, schema, explain.before_statements(subjects)), plans_dir, "before"
        )
        env = {
            "BACKEND_ANSWERS_MODE": "services",
            "DATABASE_URL": database_url,
            "CATALOG_SCHEMA": schema,
            "REDIS_URL": redis_url or "",
            "CATALOG_REDIS_PREFIX": prefix,
            "CATALOG_JWT_PUBLIC_KEY": key.public_pem(),
            "CATALOG_CURSOR_SECRET": secret,
            "LOG_LEVEL": "WARNING",
            "WEB_CONCURRENCY": "1",
        }
        with loadrun.catalog_server(env, workdir) as base_url:
            print(
                f"v1 at revision {BEFORE_OPTIMISE} "
                f"({config.load.users} users, {config.load.duration_s:g} s per endpoint)"
            )
            v1 = _measure(base_url, targets_file, "v1", config, workdir)
            optimise_s = migrate(database_url, schema, OPTIMISE)
            print(f"upgraded to {OPTIMISE} ('optimise') in {optimise_s} s")
            plans_after = explain.save(
                explain.explain(database_url, schema, explain.after_statements(subjects)), plans_dir, "after"
            )
            v2 = _measure(base_url, targets_file, "v2", config, workdir)
            cold_ids = _cold_playlists(database_url, schema, spec)
            techniques = probes.measure(base_url, [f"/v2/playlists/{i}" for i in cold_ids], issuer.issue(1))
        pool = CatalogSettings(workers=1).pool_size
        techniques["pool"] = {"v1_max_connections_per_worker": 15, "v2_connections_per_worker": pool}
        endpoints = {name: {"v1": v1[name], "v2": v2[name]} for name in ENDPOINTS}
        speedup = {
            name: {
                "p95": round(v1[name]["p95_ms"] / v2[name]["p95_ms"], 1),
                "rps": round(v2[name]["rps"] / max(v1[name]["rps"], 0.01), 1),
            }
            for name in ENDPOINTS
        }
        plans = {
            name: {"before_ms": plans_before[name], "after_ms": plans_after[name]} for name in plans_before
        }
        plans["deep_page"]["offset_after_ms"] = plans_after["deep_page_offset"]
        met = all(speedup[name]["p95"] >= TARGET_SPEEDUP for name in ("playlist", "deep_page"))
        data = {
            "dataset": {**counts, "seed_s": seed_s, "optimise_s": optimise_s, "deep_offset": subjects.offset},
            "load": {**asdict(config.load), "server_cpu": 0, "locust_cpu": 1, "workers": 1},
            "endpoints": endpoints,
            "speedup": speedup,
            "techniques": techniques,
            "plans": plans,
            "target": {"p95_speedup_at_least": TARGET_SPEEDUP, "met": met},
        }
        path = write_results(
            TOPIC,
            data,
            command=COMMAND,
            database_url=database_url,
            redis_url=redis_url,
            results_dir=results_dir,
        )
        plot(
            endpoints,
            path.with_suffix(".png"),
            f"catalog: v1 (revision {BEFORE_OPTIMISE}) vs v2 (optimised), same data",
        )
        print(f"wrote {path}, {path.with_suffix('.png')} and {plans_dir}/")
        for name in ENDPOINTS:
            print(f"  {name:>13}: p95 {speedup[name]['p95']}x better, {speedup[name]['rps']}x the throughput")
        print(f"target (p95 >= {TARGET_SPEEDUP:g}x on playlist and deep_page): {'met' if met else 'MISSED'}")
        return path
    finally:
        if not keep:
            _sql(database_url, sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        if redis_url:
            loadrun.delete_prefix(redis_url, prefix)
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m catalog.bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--quick", action="store_true", help="small data, seconds per run, into a temp folder"
    )
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--duration", type=float, default=None, help="seconds per Locust run")
    parser.add_argument("--keep-schema", action="store_true", help="leave the seeded schema for inspection")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    if args.duration:
        config = replace(config, load=replace(config.load, duration_s=args.duration))
    results_dir = args.results_dir or (
        Path(tempfile.mkdtemp(prefix="catalog-results-")) if args.quick else None
    )
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = loadrun.redis_or_none(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    if redis_url is None:
        print("Redis is not reachable: v2's cache runs in memory for this run")
    run(config, database_url, redis_url, results_dir, args.keep_schema)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
