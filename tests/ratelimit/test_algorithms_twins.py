"""The pure algorithms and the in-memory backend around them on a hand-driven clock: the documented claims."""

from __future__ import annotations

import pytest

from ratelimit.algorithms import gcra
from ratelimit.algorithms.common import Window
from ratelimit.decision import Algorithm, Limit
from ratelimit.memory import MemoryLimiter
from tests.ratelimit.algorithms_support import FakeClock


@pytest.mark.unit
def test_a_limit_becomes_whole_microseconds() -> None:
    assert Window.of(Limit(3, 1.5)) == Window(3, 1_500_000)
    assert Window.of(Limit(1, 1e-9)).period_us == 1  # never a zero period


@pytest.mark.unit
def test_gcra_rounds_its_interval_up_so_the_burst_stays_exactly_the_limit() -> None:
    window = Window.of(Limit(3, 1))
    assert gcra.interval_us(window) == 333_334
    assert gcra.max_reset_after_us(window) == 1_000_002
    state, admitted = None, 0
    for _ in range(5):
        step = gcra.decide(state, 0, window, 1)
        state, admitted = step.state, admitted + step.reply.allowed
    assert admitted == 3


@pytest.mark.unit
def test_gcra_refills_one_unit_per_interval_after_the_burst(fake_clock: FakeClock) -> None:
    limiter = MemoryLimiter("gcra", Limit(10, 10), clock=fake_clock)
    assert sum(limiter.hit_now("k").allowed for _ in range(15)) == 10
    fake_clock.advance(1.0)  # one interval
    assert [limiter.hit_now("k").allowed for _ in range(2)] == [True, False]


@pytest.mark.unit
def test_fixed_window_admits_twice_the_limit_across_a_window_boundary(fake_clock: FakeClock) -> None:
    """The documented weakness: a full allowance just before the window ends and again just after."""
    limiter = MemoryLimiter("fixed_window", Limit(10, 60), clock=fake_clock)
    assert limiter.hit_now("k").allowed
    fake_clock.advance(59.9)
    late = sum(limiter.hit_now("k").allowed for _ in range(20))
    fake_clock.advance(0.2)  # a new window has begun
    early = sum(limiter.hit_now("k").allowed for _ in range(20))
    assert late + early == 9 + 10  # 19 admitted within 0.2 s although the limit is 10 per 60 s


@pytest.mark.unit
@pytest.mark.parametrize("algorithm", ["sliding_window_log", "sliding_window_counter", "gcra"])
def test_the_other_algorithms_have_no_boundary_burst(algorithm: Algorithm, fake_clock: FakeClock) -> None:
    limiter = MemoryLimiter(algorithm, Limit(10, 60), clock=fake_clock)
    fake_clock.now_us = 59_900_000 + 60_000_000 * 100  # 0.1 s before an aligned window ends
    late = sum(limiter.hit_now("k").allowed for _ in range(20))
    fake_clock.advance(0.2)
    early = sum(limiter.hit_now("k").allowed for _ in range(20))
    assert late + early == 10


@pytest.mark.unit
def test_sliding_window_counter_never_over_admits_evenly_spread_traffic(fake_clock: FakeClock) -> None:
    """With the previous window's units spread evenly the estimate is exact: no interval exceeds the limit."""
    limit, period = 10, 60.0
    limiter = MemoryLimiter("sliding_window_counter", Limit(limit, period), clock=fake_clock)
    fake_clock.now_us = 0
    admitted: list[int] = []
    for _ in range(4 * 3 * limit):  # four windows, three times the allowed rate, perfectly even
        fake_clock.advance(period / (3 * limit))
        if limiter.hit_now("k").allowed:
            admitted.append(fake_clock.now_us)
    period_us = round(period * 1e6)
    worst = max(sum(1 for t in admitted if end - period_us < t <= end) for end in admitted)
    assert worst <= limit
    assert len(admitted) >= 3 * limit  # it still admits the full rate


@pytest.mark.unit
def test_sliding_window_counter_worst_case_stays_within_its_bound(fake_clock: FakeClock) -> None:
    """Everything spent in the previous window's last instant: over-admission is at most previous * f."""
    limit, period_us = 10, 60_000_000
    limiter = MemoryLimiter("sliding_window_counter", Limit(limit, 60), clock=fake_clock)
    fake_clock.now_us = 10 * period_us - 1  # the last microsecond of window 9
    assert sum(limiter.hit_now("k").allowed for _ in range(limit)) == limit
    fake_clock.now_us = 10 * period_us + period_us // 2  # f = 0.5 into window 10
    extra = sum(limiter.hit_now("k").allowed for _ in range(limit))
    assert extra == 5  # all 10 earlier units are still inside the last 60 s: 15 in one interval
    assert limit + extra <= limit + limit * 0.5


@pytest.mark.unit
def test_the_memory_backend_forgets_idle_keys_on_its_own(fake_clock: FakeClock) -> None:
    limiter = MemoryLimiter("gcra", Limit(5, 1), clock=fake_clock)
    for n in range(2000):
        limiter.hit_now(f"idle-{n}")
    fake_clock.advance(2)
    for _ in range(2000):  # unrelated traffic on one key triggers the amortised sweeps
        limiter.hit_now("busy")
    assert len(limiter) == 1
    assert "busy" in limiter
    assert "idle-0" not in limiter


@pytest.mark.unit
def test_the_memory_backend_drops_the_least_recently_used_key_past_max_keys(fake_clock: FakeClock) -> None:
    limiter = MemoryLimiter("fixed_window", Limit(1, 3600), clock=fake_clock, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.hit_now(key)
    limiter.hit_now("a")  # refused, but it makes "a" the most recently used
    limiter.hit_now("d")
    assert len(limiter) == 3
    assert "b" not in limiter
    assert all(key in limiter for key in ("a", "c", "d"))
    assert limiter.hit_now("b").allowed  # forgetting only ever admits more


@pytest.mark.unit
def test_the_memory_backend_refuses_unknown_algorithms() -> None:
    with pytest.raises(ValueError, match="unknown algorithm"):
        MemoryLimiter("token_bucket", Limit(1, 1))  # type: ignore[arg-type]
