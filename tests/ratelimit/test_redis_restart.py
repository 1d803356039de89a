"""After a Redis restart the pooled connections are dead; the factory's client must not fail a request for it.

A private ``redis-server`` (the shared one is never killed) is restarted under a client whose pool holds
several connections; the very next decisions on each of them must come from the returning Redis, not raise.
"""

from __future__ import annotations

import asyncio

import pytest

from ratelimit.decision import Limit
from ratelimit.factory import create_limiter, redis_client
from tests.support.servers import PrivateRedis

pytestmark = pytest.mark.integration

POOLED = 4  # connections opened before the restart, all dead after it


async def test_a_restarted_redis_answers_the_first_decisions_on_every_pooled_connection(
    private_redis: PrivateRedis,
) -> None:
    client = redis_client(private_redis.url, timeout_s=1.0)
    limiter = create_limiter("gcra", Limit(100, 60), redis=client, prefix="restart:")
    try:
        # concurrent calls each take their own connection, so the pool ends up holding several
        await asyncio.gather(*(client.ping() for _ in range(POOLED)))
        assert (await limiter.hit("listener")).allowed
        await asyncio.to_thread(private_redis.kill)
        await asyncio.to_thread(private_redis.start)  # same port, empty server: the script must reload too

        pings = await asyncio.gather(*(client.ping() for _ in range(POOLED)))
        decision = await limiter.hit("listener")
    finally:
        await client.aclose()

    assert all(pings), "every dead pooled connection was replaced within the same call"
    assert decision.allowed
    assert decision.remaining == 99, "a fresh server has a fresh budget: the decision came from Redis"
