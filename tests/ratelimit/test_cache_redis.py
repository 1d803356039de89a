"""The Redis cache on a real server: the stampede measured with and without protection, XFetch across
processes, and a hung Redis that costs a little latency and never an error."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from ratelimit.breaker import CircuitBreaker
from ratelimit.cache import RedisCache
from tests.support.servers import PrivateRedis

pytestmark = pytest.mark.integration

REQUESTS = 500
PROCESSES = (
    4  # cache instances with their own single-flight tables, sharing only Redis, like worker processes
)
COMPUTE_S = 0.3  # long enough that every naive GET lands before the first SET, even on a busy machine


def degraded(cache: str, operation: str) -> float:
    return REGISTRY.get_sample_value("cache_degraded_total", {"cache": cache, "operation": operation}) or 0.0


class Counted:
    """An expensive query (``COMPUTE_S`` seconds) that counts how often it ran."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(COMPUTE_S)
        return b"top-tracks:" + str(self.calls).encode()


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[list[aioredis.Redis]]:
    """One client and pool per simulated process; waiting for a connection blocks, never fails."""
    made = [
        aioredis.Redis.from_pool(aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=50))
        for _ in range(PROCESSES)
    ]
    for client in made:  # open the connections now, so the burst below measures the cache, not TCP handshakes
        await asyncio.gather(*(client.ping() for _ in range(50)))
    yield made
    for client in made:
        await client.aclose()


async def wait_until_gone(client: aioredis.Redis, key: str) -> None:
    async with asyncio.timeout(5):
        while True:
            if not await client.exists(key):
                return
            await asyncio.sleep(0.01)


async def naive_get_or_compute(
    client: aioredis.Redis, key: str, compute: Callable[[], Awaitable[bytes]]
) -> bytes:
    """Cache-aside as usually first written: GET, on a miss compute, SET. Nothing stops a stampede."""
    cached = await client.get(key)
    if isinstance(cached, bytes):
        return cached
    value = await compute()
    await client.set(key, value, px=60_000)
    return value


async def test_500_concurrent_requests_on_an_expired_hot_key_recompute_a_handful_of_times(
    clients: list[aioredis.Redis], redis_prefix: str
) -> None:
    """Protected: at most one computation per process. Unprotected, measured alike: about one per request."""
    caches = [RedisCache(c, redis_prefix, name="stampede", timeout_s=5.0) for c in clients]
    warm = Counted()
    await caches[0].get_or_compute("hot", warm, ttl=0.3)
    await wait_until_gone(clients[0], redis_prefix + "hot")  # the hot key has just expired

    protected = Counted()
    results = await asyncio.gather(
        *(caches[i % PROCESSES].get_or_compute("hot", protected, ttl=60) for i in range(REQUESTS))
    )

    naive = Counted()
    naive_key = redis_prefix + "naive-hot"
    await asyncio.gather(
        *(naive_get_or_compute(clients[i % PROCESSES], naive_key, naive) for i in range(REQUESTS))
    )

    report = (
        f"{REQUESTS} concurrent requests: {protected.calls} recomputations protected, {naive.calls} naive"
    )
    print(report)  # shown with pytest -rP: the measured pair, not just pass/fail
    assert protected.calls <= PROCESSES, report
    assert naive.calls >= 0.9 * REQUESTS, report
    assert all(r.startswith(b"top-tracks:") for r in results)
    assert degraded("stampede", "read") == degraded("stampede", "write") == 0, (
        "Redis must not have failed here"
    )


async def test_xfetch_lets_one_process_refresh_before_expiry_so_nobody_sees_the_miss(
    clients: list[aioredis.Redis], redis_prefix: str
) -> None:
    """Process A stores a value that took ~0.2 s; near expiry, process B (unlucky draw) refreshes it early."""
    writer = RedisCache(
        clients[0], redis_prefix, name="xfetch", ttl_jitter=0, timeout_s=1.0, rand=lambda: 1.0
    )
    lucky = RedisCache(clients[1], redis_prefix, name="xfetch", timeout_s=1.0, rand=lambda: 0.99)
    unlucky = RedisCache(
        clients[2], redis_prefix, name="xfetch", ttl_jitter=0, timeout_s=1.0, rand=lambda: 0.01
    )
    compute = Counted()

    async def slow() -> bytes:
        await asyncio.sleep(0.1)  # with Counted's 0.1 s: delta ~0.2 s
        return await compute()

    assert await writer.get_or_compute("k", slow, ttl=1.0) == b"top-tracks:1"
    await asyncio.sleep(
        0.5
    )  # ~0.5 s left: -0.2 * ln(0.99) = 0.002 (no refresh); -0.2 * ln(0.01) = 0.92 (refresh)
    assert await lucky.get_or_compute("k", slow, ttl=1.0) == b"top-tracks:1"
    assert compute.calls == 1
    assert await unlucky.get_or_compute("k", slow, ttl=1.0) == b"top-tracks:2"
    assert compute.calls == 2
    pttl = await clients[0].pttl(redis_prefix + "k")
    assert pttl > 700, f"the early refresh should have renewed the expiry, PTTL is {pttl} ms"


async def test_invalidate_removes_the_value_from_redis(
    clients: list[aioredis.Redis], redis_prefix: str
) -> None:
    cache = RedisCache(clients[0], redis_prefix, name="invalidate", timeout_s=1.0)
    compute = Counted()
    await cache.get_or_compute("k", compute, ttl=60)
    assert await clients[0].exists(redis_prefix + "k")
    await cache.invalidate("k")
    assert not await clients[0].exists(redis_prefix + "k")
    assert await cache.get_or_compute("k", compute, ttl=60) == b"top-tracks:2"


async def test_a_hung_redis_means_compute_and_serve_fast_and_recovery_when_it_answers_again(
    private_redis: PrivateRedis,
) -> None:
    """SIGSTOP is worse than a crash: connections hang. The timeout bounds the first calls, the breaker the
    rest."""
    client = aioredis.Redis.from_url(private_redis.url)
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout_s=0.3)
    cache = RedisCache(client, "c:", name="hung", timeout_s=0.05, breaker=breaker)
    compute = Counted()
    try:
        await cache.get_or_compute("k", compute, ttl=60)
        before = degraded("hung", "read")
        private_redis.pause()

        started = time.perf_counter()
        with capture_logs() as logs:
            served = [await cache.get_or_compute(f"other-{i}", compute, ttl=60) for i in range(10)]
        elapsed = time.perf_counter() - started

        assert all(v.startswith(b"top-tracks:") for v in served)
        waited = [e for e in logs if e["event"] == "cache_degraded" and e["reason"] == "TimeoutError"]
        probes = math.ceil(elapsed / breaker.reset_timeout_s)  # one half-open probe per cool-down, at most
        assert len(waited) <= 3 + probes, (
            f"{len(waited)} calls waited for the timeout; 3 + {probes} probes expected"
        )
        assert {e["reason"] for e in logs} == {"TimeoutError", "breaker_open"}
        assert elapsed < 10 * COMPUTE_S + 1.0, f"10 requests with Redis hung took {elapsed:.2f} s"
        assert degraded("hung", "read") >= before + 10

        calls_before = compute.calls
        concurrent = await asyncio.gather(*(cache.get_or_compute("hot", compute, ttl=60) for _ in range(100)))
        assert compute.calls == calls_before + 1, "single-flight still protects the database with Redis down"
        assert len(set(concurrent)) == 1

        private_redis.resume()
        await asyncio.sleep(0.35)  # the breaker's cool-down: next call is the half-open probe
        await cache.get_or_compute("after", compute, ttl=60)
        async with asyncio.timeout(5):
            while not await client.exists("c:after"):
                await cache.get_or_compute("after", compute, ttl=60)
                await asyncio.sleep(0.05)
    finally:
        private_redis.resume()
        await client.aclose()
