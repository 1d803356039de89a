"""The pure maths of calling a service that may fail: deadlines, which calls may be retried, backoff, budget.

- **Deadline**: one budget for the whole request; every attempt's timeout is the smaller of its own cap and
  what is left, so retries can never make a request outlive its caller (the gRPC deadline model).
- **Idempotency**: only a call that is safe to repeat is retried: GET/HEAD/OPTIONS/PUT/DELETE (RFC 9110
  section 9.2.2), or a POST carrying an ``Idempotency-Key`` (the IETF httpapi draft) that the gateway dedupes.
- **Backoff**: exponential with *full jitter* (``uniform(0, min(cap, base * 2**n))``), which spreads the
  retries of many clients instead of having them strike in lockstep (Brooker, "Exponential Backoff And
  Jitter", AWS Architecture Blog, 2015).
- **Retry budget**: a token bucket per downstream. Every original request deposits ``ratio`` tokens (capped),
  every retry spends one, so retries stay under ``reserve + ratio * requests``: a failing service sees at most
  that many extra calls instead of ``attempts x`` its traffic, the amplification that turns a slowdown into
  an outage (Finagle's ``RetryBudget``; Google SRE book, ch. 22 "Addressing Cascading Failures").

No I/O and injectable clocks/randomness: unit-tested in microseconds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def is_idempotent(method: str, headers: Mapping[str, str]) -> bool:
    """May this call be sent twice? Idempotent methods, or a POST/PATCH the gateway dedupes by key."""
    method = method.upper()
    return method in IDEMPOTENT_METHODS or (
        method in {"POST", "PATCH"} and bool(headers.get("idempotency-key", "").strip())
    )


class Deadline:
    """A point in time after which nobody is waiting for the answer any more."""

    def __init__(self, budget_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.expires_at = clock() + max(budget_s, 0.0)

    def remaining(self) -> float:
        return max(self.expires_at - self._clock(), 0.0)

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def attempt_timeout(self, cap_s: float) -> float:
        """This attempt's timeout: its own cap, shrunk to what is left of the request's budget."""
        return min(cap_s, self.remaining())


def parse_budget_ms(header: str | None, default_s: float, max_s: float) -> float:
    """The caller's ``X-Request-Deadline`` (milliseconds left) in seconds, clamped to ``(0, max_s]``.

    A missing or malformed value means the default; a caller may shorten the budget, never extend it past
    the gateway's maximum.
    """
    if header is None or not header.strip().isdigit():
        return min(default_s, max_s)
    return min(max(int(header.strip()) / 1000, 0.001), max_s)


def backoff_delays(
    base_s: float, cap_s: float, *, rand: Callable[[], float] = random.random
) -> Iterator[float]:
    """Full-jitter exponential delays: the n-th retry waits ``uniform(0, min(cap, base * 2**n))``."""
    attempt = 0
    while True:
        yield rand() * min(cap_s, base_s * 2**attempt)
        attempt += 1


class RetryBudget:
    """Token bucket: requests deposit ``ratio`` tokens, retries withdraw one; empty bucket, no retry."""

    def __init__(self, ratio: float = 0.1, *, reserve: float = 3.0, capacity: float | None = None) -> None:
        if not 0 <= ratio <= 1 or reserve < 0:
            raise ValueError("ratio must be in [0, 1] and reserve >= 0")
        self.ratio = ratio
        self.capacity = capacity if capacity is not None else max(reserve, 10.0)
        self._tokens = reserve  # a quiet service still gets a few retries before traffic fills the bucket
        self.requests = 0
        self.retries = 0

    @property
    def tokens(self) -> float:
        return self._tokens

    def record_request(self) -> None:
        self.requests += 1
        self._tokens = min(self.capacity, self._tokens + self.ratio)

    def try_spend(self) -> bool:
        """Take one retry token if there is one; False means: do not retry, answer with what we have."""
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        self.retries += 1
        return True
