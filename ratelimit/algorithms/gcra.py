"""GCRA, the Generic Cell Rate Algorithm, as brandur/redis-cell and brandur/throttled implement it.

One number per key: the theoretical arrival time (TAT), when the key would next be "empty" if units were
spaced exactly one ``interval = period / limit`` apart. A request of ``cost`` pushes the TAT forward by ``cost
* interval``; it is admitted when the new TAT is at most ``tolerance = limit * interval`` ahead of now. So a
fresh key admits a burst of ``limit`` at once, then one unit every ``interval``: a token bucket's behaviour
with a single stored number, no refill timer and an exact ``retry_after``. ``Limit(limit, period)`` therefore
means burst ``limit``, refilled evenly over ``period`` (redis-cell's ``CL.THROTTLE key max_burst count
period`` with ``max_burst = limit - 1``).

The guarantee the tests check: in any interval of length ``d`` at most ``limit + d / interval`` units are
admitted. Sources: brandur, "Rate Limiting, Cells, and GCRA" (https://brandur.org/rate-limiting);
https://github.com/brandur/redis-cell; the ATM Forum's GCRA (ITU-T I.371).

Times are whole microseconds and the interval is rounded *up* to one, so every sum is exact and the rate never
exceeds ``limit / period`` (``lua/gcra.lua`` does the same).
"""

from __future__ import annotations

from ratelimit.algorithms.common import Reply, Step, Window


def interval_us(window: Window) -> int:
    return -(-window.period_us // window.limit)


def decide(state: int | None, now_us: int, window: Window, cost: int) -> Step[int]:
    interval = interval_us(window)
    tolerance = interval * window.limit
    tat = max(state or 0, now_us)
    new_tat = tat + interval * cost
    allow_at = new_tat - tolerance
    if now_us < allow_at:
        remaining = (tolerance - (tat - now_us)) // interval
        return Step(Reply.refuse(remaining, tat - now_us, allow_at - now_us), state, tat)
    remaining = (tolerance - (new_tat - now_us)) // interval
    return Step(Reply.admit(remaining, new_tat - now_us), new_tat, new_tat)


def max_reset_after_us(window: Window) -> int:
    return interval_us(window) * window.limit
