"""The rate limiter as commonly first written, with both of its bugs: Q11's culprit. Study it, never use it.

    count = GET key                  -- round trip 1
    if count + cost > limit: refuse
    count = INCRBY key cost          -- round trip 2
    if count == cost: EXPIRE key     -- round trip 3, only for the request that created the key

Bug 1, check-then-act across round trips: between one request's GET and its INCRBY, other requests read the
same old count, so all of them pass the check and the limit is exceeded under concurrency.

Bug 2, INCR-then-EXPIRE is not atomic: a process that dies (deploy, OOM kill, crash) after INCRBY and before
EXPIRE leaves a counter with no expiry. It never resets, and once it reaches the limit its client is refused
for ever.

``between_steps`` is a test seam: an awaitable called after each round trip (``"after_get"``,
``"after_incr"``), so tests can force the interleaving or kill the process exactly between two steps instead
of hoping for it. The fix is ``lua/fixed_window.lua``: the same counter, its expiry and the check in one
atomic script. It even uses the same key, so a counter this limiter left without expiry is healed by the
script.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Literal

from redis.asyncio import Redis

from ratelimit.algorithms import check_cost
from ratelimit.decision import Decision, Limit
from ratelimit.keys import check_prefix, redis_keys
from ratelimit.redis_backend import DEFAULT_PREFIX

Step = Literal["after_get", "after_incr"]
StepHook = Callable[[Step], Awaitable[None]]


async def _no_pause(_: Step) -> None:
    return None


class NaiveFixedWindowLimiter:
    """A fixed-window ``Limiter`` made of separate GET, INCRBY and EXPIRE round trips. Broken on purpose."""

    def __init__(
        self,
        client: Redis,
        limit: Limit,
        *,
        prefix: str = DEFAULT_PREFIX,
        between_steps: StepHook = _no_pause,
    ) -> None:
        self.client = client
        self.limit = limit
        self.prefix = check_prefix(prefix)
        self.between_steps = between_steps

    def key_for(self, key: str) -> str:
        """The same key as the Lua ``fixed_window`` uses, so the two can be compared on one counter."""
        (name,) = redis_keys(self.prefix, "fixed_window", key)
        return name

    async def hit(self, key: str, cost: int = 1) -> Decision:
        check_cost(cost, self.limit)
        name, limit = self.key_for(key), self.limit.limit
        count = int(await self.client.get(name) or 0)
        await self.between_steps("after_get")
        if count + cost > limit:
            wait = max(0, await self.client.pttl(name)) / 1000
            return Decision(
                allowed=False, limit=limit, remaining=limit - count, reset_after=wait, retry_after=wait
            )
        count = await self.client.incrby(name, cost)  # another request may have incremented since our GET
        await self.between_steps("after_incr")
        if count == cost:  # we created the key, so we start its window; dying before this line = no expiry
            await self.client.pexpire(name, math.ceil(self.limit.period * 1000))
        return Decision(
            allowed=True,
            limit=limit,
            remaining=max(0, limit - count),
            reset_after=self.limit.period,
            retry_after=0.0,
        )
