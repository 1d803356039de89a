"""The suite every limiter backend must pass (memory, Redis, Redis Cluster) and what it needs: a hand-driven
clock and a ``Backend`` that hides how time passes (a fake clock moves at once; on Redis we really wait)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from ratelimit.algorithms import TWINS, Window
from ratelimit.algorithms.common import US_PER_S
from ratelimit.decision import ALGORITHMS, Algorithm, Limit, Limiter
from ratelimit.memory import MemoryLimiter
from ratelimit.redis_backend import RedisLimiter
from ratelimit.runner import ScriptRunner

LONG_PERIOD = 3600.0  # no window ends and nothing refills while a test runs


class FakeClock:
    """Seconds, moved only by ``advance``; kept in whole microseconds so sums are exact."""

    def __init__(self, start_s: float = 1_000.0) -> None:
        self.now_us = round(start_s * US_PER_S)

    def __call__(self) -> float:
        return self.now_us / US_PER_S

    def advance(self, seconds: float) -> None:
        self.now_us += round(seconds * US_PER_S)


@dataclass(frozen=True)
class Backend:
    name: str
    make: Callable[[Algorithm, Limit], Limiter]
    advance: Callable[[float], Awaitable[None]]
    expiries: Callable[
        [Limiter, str], Awaitable[list[float | None]]
    ]  # per stored key: seconds left, None = never
    short_period: float  # for tests in which time passes
    slack_s: float  # Redis keeps expiries in whole milliseconds and wakes us late; the fake clock is exact
    exact: bool


def memory_backend(clock: FakeClock) -> Backend:
    async def advance(seconds: float) -> None:
        clock.advance(seconds)

    async def expiries(limiter: Limiter, key: str) -> list[float | None]:
        assert isinstance(limiter, MemoryLimiter)
        ttl = limiter.ttl(key)
        return [] if ttl is None else [ttl]

    def make(algorithm: Algorithm, limit: Limit) -> Limiter:
        return MemoryLimiter(algorithm, limit, clock=clock)

    return Backend("memory", make, advance, expiries, short_period=10.0, slack_s=0.0, exact=True)


def redis_backend(client: Redis | RedisCluster, prefix: str, *, auto_pipeline: bool = True) -> Backend:
    runner = ScriptRunner(client, auto_pipeline=auto_pipeline)

    async def expiries(limiter: Limiter, key: str) -> list[float | None]:
        assert isinstance(limiter, RedisLimiter)
        found: list[float | None] = []
        for name in limiter.keys_for(key):
            pttl = await client.pttl(name)
            if pttl != -2:  # -2: no such key; -1: a key without expiry
                found.append(None if pttl == -1 else pttl / 1000)
        return found

    def make(algorithm: Algorithm, limit: Limit) -> Limiter:
        return RedisLimiter(runner, algorithm, limit, prefix=prefix)

    return Backend("redis", make, asyncio.sleep, expiries, short_period=0.25, slack_s=0.02, exact=False)


def reset_bound_s(algorithm: Algorithm, limit: Limit) -> float:
    """The documented upper bound on ``Decision.reset_after`` (and so on every key's expiry)."""
    return TWINS[algorithm].max_reset_after_us(Window.of(limit)) / US_PER_S


each_algorithm = pytest.mark.parametrize("algorithm", ALGORITHMS)


class AlgorithmSuite:
    """Behaviour every backend shares, for every algorithm; a subclass provides the ``backend`` fixture."""

    @each_algorithm
    async def test_a_fresh_key_admits_exactly_the_limit_then_refuses(
        self, backend: Backend, algorithm: Algorithm
    ) -> None:
        limiter = backend.make(algorithm, Limit(5, LONG_PERIOD))
        decisions = [await limiter.hit("alice") for _ in range(7)]
        assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
        assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0, 0]
        assert {d.limit for d in decisions} == {5}

    @each_algorithm
    async def test_cost_is_counted_in_units_and_a_refused_cost_takes_nothing(
        self, backend: Backend, algorithm: Algorithm
    ) -> None:
        limiter = backend.make(algorithm, Limit(10, LONG_PERIOD))
        first, too_big, exact_fit, one_more = [await limiter.hit("bob", cost) for cost in (4, 7, 6, 1)]
        assert (first.allowed, first.remaining) == (True, 6)
        assert (too_big.allowed, too_big.remaining) == (False, 6)
        assert (exact_fit.allowed, exact_fit.remaining) == (True, 0)
        assert not one_more.allowed

    @each_algorithm
    async def test_a_cost_outside_one_to_the_limit_is_a_value_error(
        self, backend: Backend, algorithm: Algorithm
    ) -> None:
        limiter = backend.make(algorithm, Limit(3, LONG_PERIOD))
        for cost in (0, -1, 4):
            with pytest.raises(ValueError, match="cost must be between 1 and the limit"):
                await limiter.hit("carol", cost)

    @each_algorithm
    async def test_identities_are_limited_separately(self, backend: Backend, algorithm: Algorithm) -> None:
        limiter = backend.make(algorithm, Limit(1, LONG_PERIOD))
        assert (await limiter.hit("dave")).allowed
        assert not (await limiter.hit("dave")).allowed
        assert (await limiter.hit("erin")).allowed
        assert (await limiter.hit("{dave}")).allowed  # braces are escaped, not mistaken for the hash tag

    @each_algorithm
    async def test_decisions_report_waits_within_the_documented_bound(
        self, backend: Backend, algorithm: Algorithm
    ) -> None:
        limit = Limit(3, LONG_PERIOD)
        limiter = backend.make(algorithm, limit)
        for decision in [await limiter.hit("frank") for _ in range(5)]:
            assert 0 <= decision.retry_after <= decision.reset_after <= reset_bound_s(algorithm, limit)
            assert (decision.retry_after == 0) is decision.allowed

    @each_algorithm
    async def test_every_key_a_decision_writes_carries_an_expiry(
        self, backend: Backend, algorithm: Algorithm
    ) -> None:
        limit = Limit(3, LONG_PERIOD)
        limiter = backend.make(algorithm, limit)
        for _ in range(5):
            await limiter.hit("grace")
        expiries = await backend.expiries(limiter, "grace")
        assert expiries, "the decisions stored nothing"
        assert all(
            e is not None and 0 < e <= reset_bound_s(algorithm, limit) + backend.slack_s for e in expiries
        )

    @each_algorithm
    async def test_retry_after_is_when_a_refused_request_is_admitted_and_refusals_do_not_delay_it(
        self, backend: Backend, algorithm: Algorithm
    ) -> None:
        limiter = backend.make(algorithm, Limit(2, backend.short_period))
        refused = [await limiter.hit("heidi") for _ in range(3)][-1]
        assert not refused.allowed
        wait = refused.retry_after
        for _ in range(3):  # hammering while refused must not push the moment back
            again = await limiter.hit("heidi")
            assert not again.allowed
            assert again.retry_after <= wait
        if backend.exact:
            await backend.advance(wait - 1e-6)
            assert not (await limiter.hit("heidi")).allowed, "admitted a microsecond before retry_after"
            wait = 1e-6
        await backend.advance(wait + backend.slack_s)
        assert (await limiter.hit("heidi")).allowed

    @each_algorithm
    async def test_an_idle_key_is_forgotten_once_reset_after_has_passed(
        self, backend: Backend, algorithm: Algorithm
    ) -> None:
        limiter = backend.make(algorithm, Limit(3, backend.short_period))
        await limiter.hit("ivan", 2)
        last = await limiter.hit("ivan", 1)
        assert await backend.expiries(limiter, "ivan"), "the key is remembered while it matters"
        await backend.advance(last.reset_after + backend.slack_s)
        assert await backend.expiries(limiter, "ivan") == [], "the key outlived its reset_after"
        fresh = await limiter.hit("ivan", 3)
        assert (fresh.allowed, fresh.remaining) == (True, 0)
