"""Sliding window log: remember when every admitted unit arrived; admit while the last ``period`` holds room.

The exact sliding window: in any interval ``(t - period, t]`` at most ``limit`` units are admitted, with no
boundary effect. The price is memory and work proportional to the limit: one log entry per admitted unit (a
sorted set in Redis, ``lua/sliding_window_log.lua``; a deque here). It is what ``limits`` calls the moving
window (https://limits.readthedocs.io/en/stable/strategies.html#moving-window) and the "sliding log" of
Cloudflare's comparison (https://blog.cloudflare.com/counting-things-a-lot-of-different-things/); unlike
``limits``, the time comes from the server (Redis ``TIME``), never from the application's clock.

The deque in ``Log`` is updated in place: copying a log of ``limit`` entries on every hit would cost O(limit).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ratelimit.algorithms.common import Reply, Step, Window


@dataclass(slots=True)
class Log:
    times_us: deque[int] = field(default_factory=deque)  # one entry per admitted unit, oldest first


def decide(state: Log | None, now_us: int, window: Window, cost: int) -> Step[Log]:
    log = state if state is not None else Log()
    times = log.times_us
    while times and times[0] <= now_us - window.period_us:  # left the window (now - period, now]
        times.popleft()
    count = len(times)
    if count + cost <= window.limit:
        times.extend([now_us] * cost)
        return Step(
            Reply.admit(window.limit - count - cost, window.period_us), log, now_us + window.period_us
        )
    needed = count + cost - window.limit  # this many of the oldest units must leave first
    retry = times[needed - 1] + window.period_us - now_us
    reset = times[-1] + window.period_us - now_us
    return Step(Reply.refuse(window.limit - count, reset, retry), log, times[-1] + window.period_us)


def max_reset_after_us(window: Window) -> int:
    return window.period_us
