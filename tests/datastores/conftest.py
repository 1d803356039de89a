"""Both stores on the shared servers, each in its own schema / key prefix, plus the workload they share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from datastores import PostgresStore, RedisStore, Workload, WorkloadSpec, generate, make_engine, migrate
from datastores.protocol import ListeningStore

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
