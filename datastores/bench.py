"""``make bench-datastores``: one listening history on PostgreSQL and on Redis, measured side by side.

Both stores get the same generated plays: all but the last few thousand bulk loaded, the rest written one
acknowledged play at a time by concurrent clients (``writes_per_s``). Then: latency of "last 50 plays", the
two analytics queries (the bench stops if the stores disagree), bytes per million plays (PostgreSQL relation
sizes with indexes; Redis ``used_memory`` before and after, on a private server nobody else writes to), the
follower invariant under concurrency (PostgreSQL, Redis with Lua, naive Redis), and acknowledged writes lost
to ``kill -9`` of a private ``redis-server``. PostgreSQL is the shared server, in a schema of its own that is
dropped at the end. ``--quick`` is a small run into a temp folder (or ``--results-dir``), never ``results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import text

from datastores.durability import measure_loss
from datastores.invariant import InvariantSpec, run_invariant
from datastores.measure import (
    latencies_ms,
    per_million,
    percentile,
    recent_structure_bytes,
    used_memory,
    write_throughput,
)
from datastores.naive import NaiveRedisFollowers
from datastores.postgres_store import PostgresStore, make_engine, migrate
from datastores.redis_store import RedisStore
from datastores.redisserver import private_redis, redis_server_missing
from datastores.settings import DatastoreSettings
from datastores.table import results_table, wide_console
from datastores.workload import Workload, WorkloadSpec, generate
from observability.pg import libpq_url
from observability.results import write_results

TOPIC = "datastores"
COMMAND = "make bench-datastores"
LOAD_CHUNK = 100_000
ANALYTICS_NEEDS = {
    "top_tracks_week_country": "precomputed at write time (ZINCRBY per play, a sorted set per week+country)",
    "users_played_both": "a set of user ids per track kept at write time (SADD per play), SINTER at read",
}


@dataclass(frozen=True)
class BenchConfig:
    workload: WorkloadSpec
    timed_writes: int  # the last plays of the workload, written one by one
    write_concurrency: int
    recent_reads: int
    analytics_repeats: int
    invariant: InvariantSpec
    kill_window_default_s: tuple[float, float]
    kill_window_aof_s: tuple[float, float]
    structure_users: int

    def as_dict(self) -> dict[str, object]:
        return {
            **self.workload.as_dict(),
            "timed_writes": self.timed_writes,
            "write_concurrency": self.write_concurrency,
            "recent_reads": self.recent_reads,
            "analytics_repeats": self.analytics_repeats,
        }


FULL = BenchConfig(
    workload=WorkloadSpec(plays=1_000_000, users=50_000, tracks=100_000),
    timed_writes=20_000,
    write_concurrency=16,
    recent_reads=5_000,
    analytics_repeats=24,
    invariant=InvariantSpec(playlists=20, users=40, operations=8_000, concurrency=64),
    # the stock rules snapshot after 60 s once 10,000 keys changed: kill before and after the first snapshot
    kill_window_default_s=(20.0, 120.0),
    kill_window_aof_s=(10.0, 30.0),
    structure_users=2_000,
)
QUICK = BenchConfig(
    workload=WorkloadSpec(plays=10_000, users=1_000, tracks=2_000),
    timed_writes=500,
    write_concurrency=8,
    recent_reads=200,
    analytics_repeats=4,
    invariant=InvariantSpec(playlists=4, users=20, operations=800, concurrency=32),
    kill_window_default_s=(0.5, 1.0),
    kill_window_aof_s=(0.5, 1.0),
    structure_users=200,
)


class StoresDisagreeError(RuntimeError):
    """The two stores gave different answers to the same question: the figures would compare nothing."""


async def measure_store(
    store: PostgresStore | RedisStore, workload: Workload, cfg: BenchConfig, rng: random.Random
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, answers): the read figures of one store, and what it answered (to compare the two)."""
    users = [p.user_id for p in rng.sample(workload.plays, cfg.recent_reads)]  # active users read more
    recent = await latencies_ms([partial(store.recent_plays, u) for u in users])
    week = workload.spec.last_week
    countries = workload.countries
    top_args = [(countries[i % len(countries)], week) for i in range(cfg.analytics_repeats)]
    pairs = workload.hit_pairs(cfg.analytics_repeats)
    top_ms = await latencies_ms([partial(store.top_tracks_week_country, *a) for a in top_args])
    both_ms = await latencies_ms([partial(store.users_played_both, *p) for p in pairs])
    answers = {
        "recent": [await store.recent_plays(u) for u in users[:100]],
        "top": [await store.top_tracks_week_country(*a) for a in top_args],
        "both": [await store.users_played_both(*p) for p in pairs],
    }
    figures = {
        "recent_plays_p50_ms": round(percentile(recent, 50), 3),
        "recent_plays_p99_ms": round(percentile(recent, 99), 3),
        "analytics_ms": {
            "top_tracks_week_country": round(percentile(top_ms, 50), 3),
            "users_played_both": round(percentile(both_ms, 50), 3),
        },
    }
    return figures, answers


async def run(
    cfg: BenchConfig, settings: DatastoreSettings, redis_url: str, progress: Callable[[str], object]
) -> dict[str, Any]:
    workload = generate(cfg.workload)
    bulk, timed = workload.plays[: -cfg.timed_writes], workload.plays[-cfg.timed_writes :]
    schema = f"datastores_bench_{uuid.uuid4().hex[:10]}"
    engine = make_engine(settings.database_url, schema, pool_size=cfg.write_concurrency)
    client = aioredis.Redis.from_url(redis_url)
    pg, rs = PostgresStore(engine, schema), RedisStore(client, prefix="ds:")
    try:
        await migrate(settings.database_url, schema)
        await pg.ensure_partitions(cfg.workload.first_week, cfg.workload.last_week)
        progress(f"loading {len(bulk):,} plays into PostgreSQL (schema {schema})")
        for start in range(0, len(bulk), LOAD_CHUNK):
            await pg.record_plays(bulk[start : start + LOAD_CHUNK])
        progress(f"loading {len(bulk):,} plays into Redis (private server {redis_url})")
        memory_before = await used_memory(client)
        await rs.record_plays(bulk)
        progress(
            f"{len(timed):,} single acknowledged writes each, {cfg.write_concurrency} concurrent clients"
        )
        writes = {s.name: round(await write_throughput(s, timed, cfg.write_concurrency)) for s in (pg, rs)}
        await pg.vacuum_analyze()
        size = {"postgres": await pg.listening_bytes(), "redis": await used_memory(client) - memory_before}
        progress("reads: recent plays, analytics")
        figures, answers = {}, {}
        for store in (pg, rs):
            figures[store.name], answers[store.name] = await measure_store(
                store, workload, cfg, random.Random(5)
            )
        if answers["postgres"] != answers["redis"]:
            raise StoresDisagreeError("PostgreSQL and Redis answered differently on the same plays")
        progress("follower invariant under concurrency")
        invariant = {
            s.name: await run_invariant(s, cfg.invariant)
            for s in (pg, RedisStore(client, prefix="inv:"), NaiveRedisFollowers(client, prefix="naive:"))
        }
    finally:
        await client.aclose()
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        await engine.dispose()
    progress("kill -9 of a private redis-server: stock snapshots, then AOF everysec")
    rng = random.Random()  # a different kill moment every run: before or after a snapshot, as it happens
    lost_default = await measure_loss("default", cfg.kill_window_default_s, rng=rng)
    lost_aof = await measure_loss("aof_everysec", cfg.kill_window_aof_s, rng=rng)
    progress("memory of three structures for recent plays")
    structures = await recent_structure_bytes(cfg.structure_users)
    plays = len(workload.plays)
    return {
        "workload": cfg.as_dict(),
        "postgres": {
            "writes_per_s": writes["postgres"],
            **figures["postgres"],
            "bytes_per_million_plays": per_million(size["postgres"], plays),
            "invariant_violations": invariant["postgres"].violations,
        },
        "redis": {
            "writes_per_s": writes["redis"],
            **figures["redis"],
            "analytics_needs": ANALYTICS_NEEDS,
            "bytes_per_million_plays": per_million(size["redis"], plays),
            "invariant_violations": invariant["redis"].violations,
            "lost_after_kill9_default": lost_default.lost,
            "lost_after_kill9_aof_everysec": lost_aof.lost,
        },
        "redis_naive": {"invariant_violations": invariant["redis_naive"].violations},
        "invariant": {**cfg.invariant.as_dict(), "drift": {k: v.drift for k, v in invariant.items()}},
        "durability": {r.config: r.as_dict() for r in (lost_default, lost_aof)},
        "recent_plays_bytes_per_user": structures,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m datastores.bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a small run into a temp folder")
    p.add_argument("--results-dir", type=Path, default=None, help="where to write (default: results/)")
    p.add_argument("--plays", type=int, default=None, help="override the number of plays")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> Path:
    args = parse_args(argv)
    if redis_server_missing():
        raise SystemExit("the benchmark starts private Redis servers: apt-get install redis-server")
    cfg = QUICK if args.quick else FULL
    if args.plays:
        cfg = replace(cfg, workload=replace(cfg.workload, plays=args.plays))
    results_dir = args.results_dir
    if results_dir is None and args.quick:
        results_dir = Path(tempfile.mkdtemp(prefix="q03-bench-"))
    settings = DatastoreSettings()
    console = wide_console()
    with private_redis() as server:  # stays up until the results carry its version
        data = asyncio.run(run(cfg, settings, server.url, console.log))
        path = write_results(
            TOPIC,
            data,
            command=COMMAND,
            database_url=libpq_url(settings.database_url),
            redis_url=server.url,
            results_dir=results_dir,
        )
    console.print(results_table(data, f"SQL vs NoSQL on one workload ({data['workload']['plays']:,} plays)"))
    console.print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
