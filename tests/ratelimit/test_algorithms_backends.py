"""The one algorithm suite, run against the in-memory backend and against real Redis (pipelined or not)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.ratelimit.algorithms_support import (
    AlgorithmSuite,
    Backend,
    FakeClock,
    memory_backend,
    redis_backend,
)


class TestMemoryBackend(AlgorithmSuite):
    pytestmark = pytest.mark.unit

    @pytest.fixture
    def backend(self, fake_clock: FakeClock) -> Backend:
        return memory_backend(fake_clock)


class TestRedisBackend(AlgorithmSuite):
    pytestmark = pytest.mark.integration

    @pytest.fixture(params=[True, False], ids=["auto_pipelined", "one_call_each"])
    def backend(self, request: pytest.FixtureRequest, limiter_redis: Redis, redis_prefix: str) -> Backend:
        return redis_backend(limiter_redis, redis_prefix, auto_pipeline=request.param)
