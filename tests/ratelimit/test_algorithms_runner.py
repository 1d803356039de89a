"""The Redis script runner: one EVALSHA per decision, one round trip per tick, NOSCRIPT recovery, failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ratelimit.decision import Limit
from ratelimit.errors import RateLimitBackendError
from ratelimit.factory import redis_client
from ratelimit.redis_backend import RedisLimiter
from ratelimit.runner import ScriptRunner
from ratelimit.wirecount import WireCounts, command_names, counting_connection
from tests.support.servers import PrivateRedis

pipelining = pytest.mark.parametrize("auto_pipeline", [True, False], ids=["auto_pipelined", "one_call_each"])


@pytest.fixture
def counts() -> WireCounts:
    return WireCounts()


@pytest.fixture
async def counted_redis(redis_url: str, counts: WireCounts) -> AsyncIterator[Redis]:
    client = redis_client(redis_url, timeout_s=5, connection_class=counting_connection(counts))
    assert isinstance(client, Redis)
    yield client
    await client.aclose()


@pytest.mark.unit
def test_the_wire_counter_reads_commands_off_raw_resp() -> None:
    payload = b"*2\r\n$3\r\nGET\r\n$4\r\n*\r\n$\r\n*3\r\n$7\r\nevalsha\r\n$1\r\nx\r\n$1\r\n0\r\n"
    assert command_names(payload) == ["GET", "EVALSHA"]


@pytest.mark.integration
async def test_decisions_asked_for_in_one_tick_share_one_round_trip(
    counted_redis: Redis, counts: WireCounts, redis_prefix: str
) -> None:
    """Auto-pipelining: 50 concurrent decisions are 50 EVALSHAs written together and answered together."""
    limiter = RedisLimiter(ScriptRunner(counted_redis), "gcra", Limit(100, 60), prefix=redis_prefix)
    await limiter.hit("warm-up")  # loads the script (NOSCRIPT the first time) and opens a connection
    counts.reset()
    decisions = await asyncio.gather(*(limiter.hit(f"user-{n % 7}") for n in range(50)))
    assert all(d.allowed for d in decisions)
    assert counts.round_trips == 1
    assert counts.commands == {"EVALSHA": 50}


@pytest.mark.integration
@pipelining
async def test_a_lone_decision_is_one_evalsha_in_one_round_trip(
    counted_redis: Redis, counts: WireCounts, redis_prefix: str, auto_pipeline: bool
) -> None:
    runner = ScriptRunner(counted_redis, auto_pipeline=auto_pipeline)
    limiter = RedisLimiter(runner, "sliding_window_counter", Limit(5, 60), prefix=redis_prefix)
    await limiter.hit("warm-up")
    counts.reset()
    for _ in range(3):
        await limiter.hit("alice")
    assert counts.round_trips == 3
    assert counts.commands == {"EVALSHA": 3}


@pytest.mark.integration
@pipelining
async def test_noscript_after_a_script_flush_is_answered_by_one_reload(
    private_redis: PrivateRedis, auto_pipeline: bool
) -> None:
    counts = WireCounts()
    client = redis_client(private_redis.url, timeout_s=5, connection_class=counting_connection(counts))
    limiter = RedisLimiter(ScriptRunner(client, auto_pipeline=auto_pipeline), "fixed_window", Limit(5, 60))
    try:
        assert (
            await limiter.hit("alice")
        ).remaining == 4  # a fresh server has no scripts: NOSCRIPT, load, retry
        private_redis.client().script_flush()  # what a restart or failover to a fresh replica does
        counts.reset()
        assert (await limiter.hit("alice")).remaining == 3
        assert counts.commands == {"EVALSHA": 2, "SCRIPT": 1}
    finally:
        await client.aclose()


@pytest.mark.integration
@pipelining
async def test_a_dead_redis_is_a_backend_error_at_once(
    private_redis: PrivateRedis, auto_pipeline: bool
) -> None:
    client = redis_client(private_redis.url, timeout_s=0.5)
    limiter = RedisLimiter(ScriptRunner(client, auto_pipeline=auto_pipeline), "gcra", Limit(5, 60))
    try:
        assert (await limiter.hit("alice")).allowed
        private_redis.kill()
        started = time.monotonic()
        for _ in range(3):
            with pytest.raises(RateLimitBackendError):
                await limiter.hit("alice")
        assert time.monotonic() - started < 1.5  # refused connections fail fast: no retries, no backoff
    finally:
        await client.aclose()


@pytest.mark.integration
@pipelining
async def test_a_hung_redis_is_a_backend_error_after_the_timeout_and_recovery_is_automatic(
    private_redis: PrivateRedis, auto_pipeline: bool
) -> None:
    client = redis_client(private_redis.url, timeout_s=0.2)
    limiter = RedisLimiter(ScriptRunner(client, auto_pipeline=auto_pipeline), "gcra", Limit(50, 60))
    try:
        assert (await limiter.hit("alice")).allowed
        private_redis.pause()  # SIGSTOP: connections stay open, nothing answers
        started = time.monotonic()
        with pytest.raises(RateLimitBackendError):
            await limiter.hit("alice")
        assert 0.15 < time.monotonic() - started < 2.0
        private_redis.resume()
        assert (await limiter.hit("alice")).allowed
    finally:
        private_redis.resume()
        await client.aclose()


@pytest.mark.integration
async def test_a_caller_that_gives_up_does_not_disturb_the_rest_of_its_batch(
    limiter_redis: Redis, redis_prefix: str
) -> None:
    limiter = RedisLimiter(
        ScriptRunner(limiter_redis), "sliding_window_log", Limit(100, 60), prefix=redis_prefix
    )
    await limiter.hit("warm-up")
    tasks = [asyncio.create_task(limiter.hit("alice")) for _ in range(10)]
    await asyncio.sleep(0)  # all ten are queued in this tick's batch
    tasks[3].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[3], asyncio.CancelledError)
    assert all(not isinstance(r, BaseException) and r.allowed for i, r in enumerate(results) if i != 3)
    assert (await limiter.hit("alice")).allowed  # the connection was read to the end and is reusable


@pytest.mark.integration
async def test_a_script_error_fails_only_its_own_decision(limiter_redis: Redis, redis_prefix: str) -> None:
    limiter = RedisLimiter(ScriptRunner(limiter_redis), "gcra", Limit(5, 60), prefix=redis_prefix)
    (broken,) = limiter.keys_for("broken")
    await limiter_redis.rpush(broken, "not a number")  # WRONGTYPE for the script's GET
    results = await asyncio.gather(
        limiter.hit("fine"), limiter.hit("broken"), limiter.hit("fine"), return_exceptions=True
    )
    assert isinstance(results[1], RateLimitBackendError)
    assert "WRONGTYPE" in str(results[1])
    assert [r.remaining for r in (results[0], results[2]) if not isinstance(r, BaseException)] == [4, 3]
