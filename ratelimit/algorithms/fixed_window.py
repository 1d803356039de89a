"""Fixed window: a counter per key that starts with the key's first admitted hit and vanishes ``period``
later.

The simplest limiter there is, and the one most teams write first (Redis's own documentation presents it as
the INCR rate-limiter pattern: https://redis.io/docs/latest/commands/incr/#pattern-rate-limiter). Within a
window it is exact: never more than ``limit`` units. Its known weakness is the boundary: a client can spend
its whole allowance at the end of one window and again at the start of the next, so any interval of length
``period`` may see up to ``2 * limit`` (Cloudflare's write-up of why they moved away from it:
https://blog.cloudflare.com/counting-things-a-lot-of-different-things/).

In Redis (``lua/fixed_window.lua``) the window's clock is the key's TTL: the count and its expiry are written
in one atomic script, which is exactly what the naive version (``ratelimit/naive.py``, Q11) gets wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from ratelimit.algorithms.common import Reply, Step, Window


@dataclass(frozen=True, slots=True)
class Counter:
    count: int
    ends_at_us: int


def decide(state: Counter | None, now_us: int, window: Window, cost: int) -> Step[Counter]:
    if state is not None and now_us >= state.ends_at_us:
        state = None  # the window is over: its key would have expired in Redis
    count = state.count if state else 0
    if state is not None and count + cost > window.limit:
        wait = state.ends_at_us - now_us
        return Step(
            Reply.refuse(window.limit - count, wait, wait),
            state,
            state.ends_at_us,
        )
    ends_at = state.ends_at_us if state else now_us + window.period_us
    admitted = Counter(count + cost, ends_at)
    return Step(Reply.admit(window.limit - admitted.count, ends_at - now_us), admitted, ends_at)


def max_reset_after_us(window: Window) -> int:
    return -(-window.period_us // 1000) * 1000  # Redis keeps the window as a TTL in whole milliseconds
