"""The circuit breaker's state machine, driven by a fake clock."""

from __future__ import annotations

import pytest

from ratelimit.breaker import BreakerState, CircuitBreaker

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def tripped(clock: FakeClock, threshold: int = 3, reset: float = 5.0) -> CircuitBreaker:
    breaker = CircuitBreaker(threshold, reset, clock=clock)
    for _ in range(threshold):
        assert breaker.allow()
        breaker.record_failure()
    return breaker


def test_a_closed_breaker_lets_every_call_through(clock: FakeClock) -> None:
    breaker = CircuitBreaker(3, 5.0, clock=clock)
    assert all(breaker.allow() for _ in range(100))
    assert breaker.state is BreakerState.CLOSED


def test_it_opens_after_n_consecutive_failures(clock: FakeClock) -> None:
    breaker = CircuitBreaker(3, 5.0, clock=clock)
    states = []
    for _ in range(3):
        breaker.record_failure()
        states.append(breaker.state)
    assert states == [BreakerState.CLOSED, BreakerState.CLOSED, BreakerState.OPEN]


def test_a_success_resets_the_consecutive_failure_count(clock: FakeClock) -> None:
    breaker = CircuitBreaker(3, 5.0, clock=clock)
    for _ in range(10):
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_an_open_breaker_fails_fast_until_the_cool_down_has_passed(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 4.99
    assert not any(breaker.allow() for _ in range(100))
    clock.now += 0.01
    assert breaker.state is BreakerState.HALF_OPEN


def test_half_open_lets_exactly_one_probe_through(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 5
    assert breaker.allow()
    assert not any(breaker.allow() for _ in range(100))


def test_a_successful_probe_closes_the_breaker(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 5
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert all(breaker.allow() for _ in range(10))


def test_a_failed_probe_reopens_for_a_full_cool_down(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 5
    assert breaker.allow()
    clock.now += 1  # the probe took a while to fail
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 4.99
    assert not breaker.allow()
    clock.now += 0.01
    assert breaker.allow()


def test_a_probe_that_never_reports_frees_its_slot_after_the_cool_down(clock: FakeClock) -> None:
    """A cancelled probe must not leave the breaker half-open and refusing forever."""
    breaker = tripped(clock)
    clock.now += 5
    assert breaker.allow()  # this probe's task is cancelled and never records anything
    clock.now += 4.99
    assert not breaker.allow()
    clock.now += 0.01
    assert breaker.allow()


def test_state_changes_are_reported_once_each(clock: FakeClock) -> None:
    changes: list[tuple[str, str]] = []
    breaker = CircuitBreaker(2, 5.0, clock=clock, on_change=lambda old, new: changes.append((old, new)))
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_failure()  # a straggler while open restarts the cool-down but is not a new transition
    clock.now += 5
    breaker.allow()
    breaker.record_success()
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(0, 1.0)
    with pytest.raises(ValueError, match="reset_timeout_s"):
        CircuitBreaker(1, 0)
