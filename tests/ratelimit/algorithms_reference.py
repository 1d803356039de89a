"""Reference models: each algorithm's definition written as plainly as possible, to check the real ones
against.

They keep the whole history and recompute from it on every request: slow, obviously right, and independent of
the state the real implementations keep (GCRA's reference is the other classic formulation, the
continuous-state leaky bucket of ITU-T I.371, rather than the theoretical arrival time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

Event = tuple[int, int]  # (time in microseconds, cost) of an admitted request


class Reference(Protocol):
    def hit(self, key: str, now: int, cost: int) -> tuple[bool, int]:
        """(allowed, remaining) for a request of ``cost`` at ``now``; remembers it when admitted."""
        ...


class FixedWindowReference:
    def __init__(self, limit: int, period: int) -> None:
        self.limit, self.period = limit, period
        self.windows: dict[str, tuple[int, int]] = {}  # key -> (start, admitted in it)

    def hit(self, key: str, now: int, cost: int) -> tuple[bool, int]:
        start, count = self.windows.get(key, (now, 0))
        if now >= start + self.period:
            start, count = now, 0
        if count + cost > self.limit:
            return False, self.limit - count
        self.windows[key] = (start, count + cost)
        return True, self.limit - count - cost


class SlidingLogReference:
    def __init__(self, limit: int, period: int) -> None:
        self.limit, self.period = limit, period
        self.admitted: dict[str, list[Event]] = defaultdict(list)

    def hit(self, key: str, now: int, cost: int) -> tuple[bool, int]:
        used = sum(c for t, c in self.admitted[key] if t > now - self.period)
        if used + cost > self.limit:
            return False, self.limit - used
        self.admitted[key].append((now, cost))
        return True, self.limit - used - cost


class SlidingCounterReference:
    def __init__(self, limit: int, period: int) -> None:
        self.limit, self.period = limit, period
        self.admitted: dict[str, list[Event]] = defaultdict(list)

    def hit(self, key: str, now: int, cost: int) -> tuple[bool, int]:
        window, elapsed = divmod(now, self.period)
        previous = sum(c for t, c in self.admitted[key] if t // self.period == window - 1)
        current = sum(c for t, c in self.admitted[key] if t // self.period == window)
        # previous * (1 - elapsed / period) + current + cost <= limit, times period to stay in integers
        allowed = (
            previous * (self.period - elapsed) + (current + cost) * self.period <= self.limit * self.period
        )
        if allowed:
            self.admitted[key].append((now, cost))
            current += cost
        room = self.limit * self.period - previous * (self.period - elapsed) - current * self.period
        return allowed, max(0, room // self.period)


class LeakyBucketReference:
    """GCRA as a bucket of work that drains one microsecond per microsecond, holding ``tolerance`` at most."""

    def __init__(self, limit: int, period: int) -> None:
        self.interval = -(-period // limit)
        self.tolerance = self.interval * limit
        self.buckets: dict[str, tuple[int, int]] = {}  # key -> (level, time of last admission)

    def hit(self, key: str, now: int, cost: int) -> tuple[bool, int]:
        level, last = self.buckets.get(key, (0, now))
        level = max(0, level - (now - last))
        if level + cost * self.interval > self.tolerance:
            return False, (self.tolerance - level) // self.interval
        level += cost * self.interval
        self.buckets[key] = (level, now)
        return True, (self.tolerance - level) // self.interval


REFERENCES: dict[str, Callable[[int, int], Reference]] = {
    "fixed_window": FixedWindowReference,
    "sliding_window_log": SlidingLogReference,
    "sliding_window_counter": SlidingCounterReference,
    "gcra": LeakyBucketReference,
}
