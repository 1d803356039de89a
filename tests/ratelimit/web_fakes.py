"""Test doubles for the web half of ``ratelimit``: a limiter that counts without a clock, and can fail on cue.

Unit tests of the middleware, dependency and shedder use it so they need no Redis and no waiting; the real
limiters (Redis and in-memory) are proven by their own suite and by the integration tests here.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from ratelimit.decision import Decision, Limit
from ratelimit.errors import RateLimitBackendError


class BudgetLimiter:
    """Each key gets ``limit.limit`` units, never refilled; refusals say "retry after the whole period"."""

    def __init__(self, limit: Limit, *, fail: bool = False, delay_s: float = 0.0) -> None:
        self.limit = limit
        self.fail = fail
        self.delay_s = delay_s
        self.used: Counter[str] = Counter()
        self.calls: list[tuple[str, int]] = []

    async def hit(self, key: str, cost: int = 1) -> Decision:
        self.calls.append((key, cost))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail:
            raise RateLimitBackendError("redis is down (simulated)")
        allowed = self.used[key] + cost <= self.limit.limit
        if allowed:
            self.used[key] += cost
        remaining = self.limit.limit - self.used[key]
        retry_after = 0.0 if allowed else self.limit.period
        return Decision(allowed, self.limit.limit, remaining, self.limit.period, retry_after)
