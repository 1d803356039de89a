"""Both stores on the shared servers, each in its own schema / key prefix, plus the workload they share."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
import redis.asyncio as aioredis

from datastores import PostgresStore, RedisStore, Workload, WorkloadSpec, generate, make_engine, migrate
from datastores.protocol import ListeningStore
from datastores.redisserver import TEMP_PREFIX

SMALL = WorkloadSpec(plays=3_000, users=150, tracks=400, weeks=3, seed=3)


@pytest.fixture(scope="session")
def workload() -> Workload:
    return generate(SMALL)


@pytest.fixture
async def postgres_store(database_url: str, pg_schema: str) -> AsyncIterator[PostgresStore]:
    await migrate(database_url, pg_schema)
    engine = make_engine(database_url, pg_schema, pool_size=8)
    store = PostgresStore(engine, pg_schema)
    await store.ensure_partitions(SMALL.first_week, SMALL.last_week)
    yield store
    await engine.dispose()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def redis_store(redis_client: aioredis.Redis, redis_prefix: str) -> RedisStore:
    return RedisStore(redis_client, prefix=redis_prefix)


@pytest.fixture(params=["postgres", "redis"])
def store(request: pytest.FixtureRequest) -> ListeningStore:
    """Each shared test runs once per implementation."""
    found: ListeningStore = request.getfixturevalue(f"{request.param}_store")
    return found


def _leftovers(database_url: str) -> tuple[set[Path], set[int], set[str]]:
    """Private Redis folders, processes working in them, and benchmark schemas that exist right now."""
    dirs = set(Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"))
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if str((entry / "cwd").readlink()).startswith(str(Path(tempfile.gettempdir()) / TEMP_PREFIX)):
                    pids.add(int(entry.name))
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'datastores_bench_%'")
        schemas = {str(name) for (name,) in rows}
    return dirs, pids, schemas


@pytest.fixture
def nothing_left_behind(database_url: str) -> Iterator[None]:
    """A test that starts servers or creates schemas leaves none of them behind, pass or fail."""
    dirs, pids, schemas = _leftovers(database_url)
    yield
    dirs_after, pids_after, schemas_after = _leftovers(database_url)
    assert dirs_after <= dirs, f"a private Redis folder survived: {dirs_after - dirs}"
    assert pids_after <= pids, f"a private redis-server survived: {pids_after - pids}"
    assert schemas_after <= schemas, f"a benchmark schema survived: {schemas_after - schemas}"
