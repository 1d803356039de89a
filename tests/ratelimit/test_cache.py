"""Stampede-safe cache-aside, in memory: single-flight, XFetch early refresh, TTL jitter, invalidation."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

import pytest

from ratelimit.cache import MemoryCache, xfetch_due

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def always(value: float) -> Callable[[], float]:
    return lambda: value


class CountingCompute:
    """A slow computation that counts how often it ran and can be told to fail."""

    def __init__(self, delay_s: float = 0.01, value: bytes = b"v") -> None:
        self.delay_s = delay_s
        self.value = value
        self.calls = 0
        self.fail = False

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise LookupError("the database said no")
        return self.value + str(self.calls).encode()


def test_xfetch_never_refreshes_early_when_rand_is_one() -> None:
    assert not xfetch_due(delta=1.0, remaining=0.001, beta=1.0, rand=1.0)


def test_xfetch_always_refreshes_an_expired_value_or_when_rand_is_zero() -> None:
    assert xfetch_due(delta=0.001, remaining=0.0, beta=1.0, rand=0.99)
    assert xfetch_due(delta=0.001, remaining=1000, beta=1.0, rand=0.0)


def test_xfetch_is_the_papers_inequality() -> None:
    """Refresh iff -delta * beta * ln(rand) >= remaining: probability exp(-remaining / (delta * beta))."""
    delta, beta, remaining = 0.2, 1.0, 0.5
    threshold = math.exp(-remaining / (delta * beta))  # the rand below which we refresh
    assert xfetch_due(delta, remaining, beta, threshold * 0.999)
    assert not xfetch_due(delta, remaining, beta, threshold * 1.001)
    assert xfetch_due(delta, remaining, 2.0, threshold * 1.5)  # beta > 1 refreshes earlier


async def test_concurrent_misses_in_one_process_compute_once() -> None:
    cache, compute = MemoryCache(), CountingCompute()
    results = await asyncio.gather(*(cache.get_or_compute("hot", compute, ttl=60) for _ in range(500)))
    assert compute.calls == 1
    assert set(results) == {b"v1"}


async def test_a_failed_computation_reaches_every_waiter_and_is_not_cached() -> None:
    cache, compute = MemoryCache(), CountingCompute()
    compute.fail = True
    results = await asyncio.gather(
        *(cache.get_or_compute("k", compute, ttl=60) for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, LookupError) for r in results)
    assert compute.calls == 1
    compute.fail = False
    assert await cache.get_or_compute("k", compute, ttl=60) == b"v2"


async def test_a_caller_that_gives_up_does_not_cancel_the_shared_computation() -> None:
    cache, compute = MemoryCache(), CountingCompute(delay_s=0.05)
    impatient = asyncio.create_task(cache.get_or_compute("k", compute, ttl=60))
    patient = asyncio.create_task(cache.get_or_compute("k", compute, ttl=60))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert await patient == b"v1"
    assert compute.calls == 1


async def test_hits_are_served_without_computing_until_expiry() -> None:
    clock = FakeClock()
    cache, compute = MemoryCache(clock=clock, rand=lambda: 1.0, ttl_jitter=0), CountingCompute()
    assert await cache.get_or_compute("k", compute, ttl=10) == b"v1"
    clock.now += 9.9
    assert await cache.get_or_compute("k", compute, ttl=10) == b"v1"
    clock.now += 0.1
    assert await cache.get_or_compute("k", compute, ttl=10) == b"v2"
    assert compute.calls == 2


async def test_xfetch_refreshes_before_expiry_while_others_keep_reading_the_valid_value() -> None:
    """The refresher recomputes; concurrent readers in this process get the still-valid old value at once."""
    clock, draws = FakeClock(), iter([0.5, 0.1, 0.1])
    cache = MemoryCache(clock=clock, rand=lambda: next(draws, 1.0), ttl_jitter=0)
    compute = CountingCompute(delay_s=0.05)  # so delta >= 0.05 s
    await cache.get_or_compute("k", compute, ttl=10)  # draw 0.5 (for the jitter, which is 0): expires at +10
    clock.now += 9.95  # still valid for 50 ms, and -delta * ln(0.1) >= 0.115 s > 50 ms
    refresher = asyncio.create_task(cache.get_or_compute("k", compute, ttl=10))  # draw 0.1: refresh now
    await asyncio.sleep(0.01)
    # this reader also draws "refresh", but one is under way: it gets the valid value, not a wait
    assert await cache.get_or_compute("k", compute, ttl=10) == b"v1"
    assert await refresher == b"v2"
    assert await cache.get_or_compute("k", compute, ttl=10) == b"v2"
    assert compute.calls == 2


async def test_ttls_are_jittered_downwards_only() -> None:
    """Keys written together must not expire in the same instant, nor live longer than asked."""
    for draw in (0.0, 0.5, 0.999):
        clock = FakeClock()
        cache = MemoryCache(clock=clock, ttl_jitter=0.2, rand=always(draw))
        await cache.get_or_compute("k", CountingCompute(delay_s=0), ttl=100)
        _, _, expires_at = cache._store["k"]
        assert expires_at - clock.now == pytest.approx(100 * (1 - 0.2 * draw))
        assert 80 <= expires_at - clock.now <= 100


async def test_invalidate_forces_the_next_read_to_recompute() -> None:
    cache, compute = MemoryCache(), CountingCompute()
    await cache.get_or_compute("k", compute, ttl=60)
    await cache.invalidate("k")
    assert await cache.get_or_compute("k", compute, ttl=60) == b"v2"


async def test_a_computation_started_before_an_invalidation_is_served_but_not_stored() -> None:
    cache, compute = MemoryCache(), CountingCompute(delay_s=0.05)
    in_flight = asyncio.create_task(cache.get_or_compute("k", compute, ttl=60))
    await asyncio.sleep(0.01)
    await cache.invalidate("k")  # e.g. the row changed while we were reading the old one
    assert await in_flight == b"v1"
    assert await cache.get_or_compute("k", compute, ttl=60) == b"v2"


async def test_the_memory_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    compute = CountingCompute(delay_s=0)
    await cache.get_or_compute("a", compute, ttl=60)
    await cache.get_or_compute("b", compute, ttl=60)
    await cache.get_or_compute("a", compute, ttl=60)  # touch a
    await cache.get_or_compute("c", compute, ttl=60)  # evicts b
    assert list(cache._store) == ["a", "c"]


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="beta"):
        MemoryCache(beta=0)
    with pytest.raises(ValueError, match="ttl_jitter"):
        MemoryCache(ttl_jitter=1.0)
