"""Property tests: every algorithm, on random traffic, against its reference model and its window guarantee.

In memory, time is driven by hand, so every claim is checked to the microsecond: the decisions equal the
reference model's; no window ever admits more than the algorithm promises; and once the last decision's
``reset_after`` has passed, the key is forgotten. On real Redis (whose clock we cannot drive) the same
decisions are checked while no window can end, and expiry is checked with short periods and real waiting.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratelimit.algorithms import gcra
from ratelimit.algorithms.common import Window
from ratelimit.decision import ALGORITHMS, Algorithm, Decision, Limit
from ratelimit.factory import create_limiter, redis_client
from ratelimit.memory import MemoryLimiter
from ratelimit.redis_backend import RedisLimiter
from tests.ratelimit.algorithms_reference import REFERENCES, Event
from tests.ratelimit.algorithms_support import FakeClock, reset_bound_s

KEYS = ("alice", "bob")
Request = tuple[str, int, int]  # (key, microseconds since the previous request, cost)


@st.composite
def traffic(draw: st.DrawFn) -> tuple[int, int, list[Request]]:
    limit = draw(st.integers(1, 6))
    period = draw(st.sampled_from([1_000, 7_001, 60_000, 1_000_000]))  # some not divisible by the limit
    gap = st.one_of(st.integers(0, period // 8), st.integers(0, 3 * period))  # mostly bursts, sometimes idle
    requests = draw(st.lists(st.tuples(st.sampled_from(KEYS), gap, st.integers(1, limit)), max_size=60))
    return limit, period, requests


def fixed_window_guarantee(limit: int, period: int, admitted: list[Event]) -> None:
    """Each window (it starts with the first hit after the previous one ended) admits at most the limit."""
    start, used = None, 0
    for t, cost in admitted:
        if start is None or t >= start + period:
            start, used = t, 0
        used += cost
        assert used <= limit


def sliding_window_log_guarantee(limit: int, period: int, admitted: list[Event]) -> None:
    """Exact: every interval (t - period, t] admits at most the limit."""
    for end, _ in admitted:
        assert sum(c for t, c in admitted if end - period < t <= end) <= limit


def sliding_window_counter_guarantee(limit: int, period: int, admitted: list[Event]) -> None:
    """Each aligned window admits at most the limit, and every interval stays within the documented bound."""
    per_window: dict[int, int] = defaultdict(int)
    for t, cost in admitted:
        per_window[t // period] += cost
    assert max(per_window.values(), default=0) <= limit
    for end, _ in admitted:
        window, elapsed = divmod(end, period)
        in_interval = sum(c for t, c in admitted if end - period < t <= end)
        previous = per_window.get(window - 1, 0)
        previous_inside = sum(c for t, c in admitted if end - period < t and t // period == window - 1)
        # S <= limit + (a - c * (1 - f)), times period
        assert in_interval * period <= limit * period + previous_inside * period - previous * (
            period - elapsed
        )


def gcra_guarantee(limit: int, period: int, admitted: list[Event]) -> None:
    """Every interval [a, b] admits at most limit + (b - a) / interval units."""
    interval = gcra.interval_us(Window(limit, period))
    for i, (start, _) in enumerate(admitted):
        for j in range(i, len(admitted)):
            units = sum(c for _, c in admitted[i : j + 1])
            assert units * interval <= interval * limit + (admitted[j][0] - start)


GUARANTEES: dict[Algorithm, Callable[[int, int, list[Event]], None]] = {
    "fixed_window": fixed_window_guarantee,
    "sliding_window_log": sliding_window_log_guarantee,
    "sliding_window_counter": sliding_window_counter_guarantee,
    "gcra": gcra_guarantee,
}


@pytest.mark.property
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@given(scenario=traffic())
def test_memory_backend_matches_its_reference_model_and_keeps_its_window_guarantee(
    algorithm: Algorithm, scenario: tuple[int, int, list[Request]]
) -> None:
    limit, period, requests = scenario
    clock = FakeClock()
    limiter = MemoryLimiter(algorithm, Limit(limit, period / 1e6), clock=clock)
    reference = REFERENCES[algorithm](limit, period)
    admitted: dict[str, list[Event]] = defaultdict(list)
    last: dict[str, Decision] = {}
    for key, gap, cost in requests:
        clock.now_us += gap
        decision = limiter.hit_now(key, cost)
        assert (decision.allowed, decision.remaining) == reference.hit(key, clock.now_us, cost)
        if decision.allowed:
            admitted[key].append((clock.now_us, cost))
        last[key] = decision
    for history in admitted.values():
        GUARANTEES[algorithm](limit, period, history)

    # once the latest reset_after has passed, every key is forgotten and has its full allowance again
    clock.now_us += max((round(d.reset_after * 1e6) for d in last.values()), default=0)
    limiter.sweep()
    assert len(limiter) == 0
    assert all(limiter.hit_now(key, limit).allowed for key in KEYS)


@pytest.mark.property
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limit=st.integers(1, 6),
    requests=st.lists(st.tuples(st.sampled_from(KEYS), st.integers(1, 6)), min_size=1, max_size=15),
)
def test_redis_matches_the_reference_model_while_no_window_ends(
    algorithm: Algorithm, limit: int, requests: list[tuple[str, int]], redis_url: str, redis_prefix: str
) -> None:
    requests = [(key, min(cost, limit)) for key, cost in requests]
    period = 3600 * 1_000_000  # nothing ends or refills in the milliseconds the example takes
    reference = REFERENCES[algorithm](limit, period)

    async def decide() -> list[Decision]:
        client = redis_client(redis_url, timeout_s=5)
        limiter = create_limiter(
            algorithm, Limit(limit, 3600), redis=client, prefix=f"{redis_prefix}{uuid.uuid4().hex}:"
        )
        try:
            return [await limiter.hit(key, cost) for key, cost in requests]
        finally:
            await client.aclose()

    expected = [reference.hit(key, 0, cost) for key, cost in requests]  # all at one instant
    assert [(d.allowed, d.remaining) for d in asyncio.run(decide())] == expected


@pytest.mark.property
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(1, 4), costs=st.lists(st.integers(1, 4), min_size=1, max_size=8))
def test_every_redis_key_expires_within_its_bound_and_then_is_gone(
    algorithm: Algorithm, limit: int, costs: list[int], redis_url: str, redis_prefix: str
) -> None:
    limit_ = Limit(limit, 0.15)
    bound = reset_bound_s(algorithm, limit_)
    sync = redis.Redis.from_url(redis_url)

    async def decide() -> tuple[RedisLimiter, Decision]:
        client = redis_client(redis_url, timeout_s=5)
        limiter = create_limiter(algorithm, limit_, redis=client, prefix=f"{redis_prefix}{uuid.uuid4().hex}:")
        assert isinstance(limiter, RedisLimiter)
        try:
            decisions = [await limiter.hit("k", min(cost, limit)) for cost in costs]
        finally:
            await client.aclose()
        return limiter, decisions[-1]

    try:
        limiter, last = asyncio.run(decide())
        ttls = [sync.pttl(name) for name in limiter.keys_for("k")]
        assert any(ttl > 0 for ttl in ttls), "nothing was stored"
        assert all(ttl == -2 or 0 < ttl <= bound * 1000 + 1 for ttl in ttls), (
            f"a key without a bounded expiry: {ttls}"
        )
        asyncio.run(asyncio.sleep(last.reset_after + 0.02))
        assert sync.exists(*limiter.keys_for("k")) == 0
    finally:
        sync.close()
