"""Fixtures for the rate-limit tests: a hand-driven clock, limiter Redis clients, a private Redis Cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from ratelimit.factory import redis_client
from tests.ratelimit.algorithms_support import FakeClock
from tests.support.cluster import PrivateCluster, redis_cluster

CLIENT_TIMEOUT_S = 5.0  # generous: the shared test machine may be busy; tests of timeouts set their own


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def limiter_redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the shared Redis configured as limiters use it (short timeouts, no retries)."""
    client = redis_client(redis_url, timeout_s=CLIENT_TIMEOUT_S)
    assert isinstance(client, Redis)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def private_cluster() -> Iterator[PrivateCluster]:
    """A 3-primary Redis Cluster of our own, started once for the session and always removed."""
    with redis_cluster(primaries=3) as cluster:
        yield cluster


@pytest.fixture
async def limiter_cluster(private_cluster: PrivateCluster) -> AsyncIterator[RedisCluster]:
    client = redis_client(private_cluster.url, timeout_s=CLIENT_TIMEOUT_S, cluster=True)
    assert isinstance(client, RedisCluster)
    yield client
    await client.aclose()
