"""A circuit breaker, so a dead Redis costs one timeout per cool-down instead of one per request.

Without it every request waits the full timeout for a server that is not coming back, and the limiter that was
meant to protect the service becomes the outage. The classic three states (Nygard, *Release It!*, 2007):

- **closed**: calls go through; ``failure_threshold`` consecutive failures trip the breaker;
- **open**: calls are refused at once (the caller degrades: fail open or fail closed) until
  ``reset_timeout_s`` has passed;
- **half-open**: one probe call is let through; success closes the breaker, failure opens it for another
  cool-down. A probe that never reports back (its task was cancelled) frees its slot after
  ``reset_timeout_s``.

Pure logic with an injectable clock: no I/O, no asyncio, so it is unit-tested in microseconds. In asyncio code
``allow()`` and the ``record_*`` calls happen between awaits, so no lock is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


StateListener = Callable[[BreakerState, BreakerState], None]


class CircuitBreaker:
    """``if breaker.allow(): try call; record_success() / record_failure()`` else degrade without calling."""

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout_s: float = 2.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: StateListener | None = None,
    ) -> None:
        if failure_threshold < 1 or reset_timeout_s <= 0:
            raise ValueError("failure_threshold must be >= 1 and reset_timeout_s > 0")
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self.on_change = on_change  # called with (old, new) on every transition
        self._state = BreakerState.CLOSED
        self._failures = 0  # consecutive, while closed
        self._opened_at = 0.0
        self._probe_started_at: float | None = None

    @property
    def state(self) -> BreakerState:
        """The state as of now (an open breaker whose cool-down has passed reads as half-open)."""
        if self._state is BreakerState.OPEN and self._cooled_down():
            return BreakerState.HALF_OPEN
        return self._state

    def allow(self) -> bool:
        """May the caller try the backend now? While half-open, only one caller (the probe) gets ``True``."""
        if self._state is BreakerState.CLOSED:
            return True
        now = self._clock()
        if self._state is BreakerState.OPEN:
            if not self._cooled_down():
                return False
            self._transition(BreakerState.HALF_OPEN)
        probe_lost = (
            self._probe_started_at is not None and now - self._probe_started_at >= self.reset_timeout_s
        )
        if self._probe_started_at is None or probe_lost:
            self._probe_started_at = now
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._probe_started_at = None
        if self._state is not BreakerState.CLOSED:
            self._transition(BreakerState.CLOSED)

    def record_failure(self) -> None:
        if self._state is BreakerState.CLOSED:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open()
        else:  # a failed probe (or a straggler from before the trip): back to a full cool-down
            self._open()

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._probe_started_at = None
        self._failures = 0
        self._transition(BreakerState.OPEN)

    def _cooled_down(self) -> bool:
        return self._clock() - self._opened_at >= self.reset_timeout_s

    def _transition(self, new: BreakerState) -> None:
        old, self._state = self._state, new
        if old is not new and self.on_change is not None:
            self.on_change(old, new)
