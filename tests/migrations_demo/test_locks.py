from __future__ import annotations

from collections.abc import Callable

import pytest

from migrations_demo.locks import (
    LOCK_NOT_AVAILABLE,
    LockEvent,
    LockPolicy,
    LockRetriesExhaustedError,
    is_lock_timeout,
    lock_retrying,
    sqlstate,
)

pytestmark = pytest.mark.unit


class FakeDbError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.sqlstate = code


class WrappedError(Exception):
    """Like SQLAlchemy's DBAPIError: the driver's error sits in ``.orig``."""

    def __init__(self, orig: BaseException) -> None:
        super().__init__("wrapped")
        self.orig = orig


FAST = LockPolicy(lock_timeout_ms=10, attempts=3, retry_base_s=0.001, retry_max_s=0.002)


def chained() -> BaseException:
    """What ``raise RuntimeError(...) from driver_error`` produces."""
    outer = RuntimeError("migration failed")
    outer.__cause__ = FakeDbError(LOCK_NOT_AVAILABLE)
    return outer


def with_retries(step: Callable[[], None], events: list[LockEvent] | None = None) -> None:
    for attempt in lock_retrying(
        FAST, "ALTER TABLE plays ...", events.append if events is not None else None
    ):
        with attempt:
            step()


def test_every_step_gets_a_lock_timeout_and_a_statement_timeout() -> None:
    policy = LockPolicy(
        lock_timeout_ms=1000,
        statement_timeout_ms=15000,
        long_statement_timeout_ms=3_600_000,
        non_blocking_lock_timeout_ms=600_000,
    )
    assert policy.set_statements(non_blocking=False, local=True) == [
        "SET LOCAL lock_timeout = '1000ms'",
        "SET LOCAL statement_timeout = '15000ms'",
    ]
    # CONCURRENTLY and VALIDATE: nothing queues behind their lock, so they may wait (and run) longer
    assert policy.set_statements(non_blocking=True, local=False) == [
        "SET lock_timeout = '600000ms'",
        "SET statement_timeout = '3600000ms'",
    ]


def test_a_zero_timeout_is_refused_because_it_means_wait_forever() -> None:
    with pytest.raises(ValueError, match="wait forever"):
        LockPolicy(lock_timeout_ms=0)
    with pytest.raises(ValueError, match="attempts"):
        LockPolicy(attempts=0)


def test_a_lock_timeout_is_recognised_also_when_wrapped_or_chained() -> None:
    assert is_lock_timeout(FakeDbError(LOCK_NOT_AVAILABLE))
    assert is_lock_timeout(WrappedError(FakeDbError(LOCK_NOT_AVAILABLE)))
    assert is_lock_timeout(chained())
    assert not is_lock_timeout(FakeDbError("57014"))  # statement_timeout: too slow, not blocked
    assert sqlstate(ValueError("no code")) is None


def test_lock_timeouts_are_retried_with_a_pause_until_the_step_succeeds() -> None:
    events: list[LockEvent] = []
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise FakeDbError(LOCK_NOT_AVAILABLE)

    with_retries(step, events)
    assert len(calls) == 3
    assert [e.attempt for e in events] == [1, 2]
    assert all(0 <= e.pause_s <= FAST.retry_max_s for e in events)


def test_retries_are_bounded_and_the_final_error_says_what_to_look_at() -> None:
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        raise FakeDbError(LOCK_NOT_AVAILABLE)

    with pytest.raises(LockRetriesExhaustedError, match="3 attempts") as info:
        with_retries(step)
    assert len(calls) == FAST.attempts
    assert "pg_blocking_pids" in str(info.value)


def test_any_other_error_fails_at_once_without_retry() -> None:
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        raise FakeDbError("42P07")  # duplicate table: retrying cannot help

    with pytest.raises(FakeDbError):
        with_retries(step)
    assert len(calls) == 1
