"""The in-memory backend: the same algorithms as the Redis scripts, for one process or embedded mode.

It runs the Python twins in ``ratelimit.algorithms`` on integer microseconds from an injectable clock (tests
drive time by hand). A decision never awaits between reading and writing a key's state, so it is atomic for
asyncio; a lock makes it safe across threads too. Memory is bounded: a key is forgotten once its state expires
(the same moment its Redis key would), expired keys are swept once every ``len(keys)`` decisions (amortised
O(1)), and past ``max_keys`` live keys the least recently used is dropped; forgetting a key only ever admits
more, never less.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ratelimit.algorithms import TWINS, check_cost, decision_from_reply
from ratelimit.algorithms.common import US_PER_S, Window
from ratelimit.decision import ALGORITHMS, Algorithm, Decision, Limit

MIN_SWEEP_INTERVAL = 1024  # decisions between sweeps when there are few keys


class MemoryLimiter:
    """``MemoryLimiter("gcra", Limit(100, 60))``: a ``Limiter`` whose state lives in this process."""

    def __init__(
        self,
        algorithm: Algorithm,
        limit: Limit,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 1_000_000,
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.algorithm: Algorithm = algorithm
        self.limit = limit
        self.max_keys = max_keys
        self._window = Window.of(limit)
        self._decide = TWINS[algorithm].decide
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (state, expires_at_us); a dict keeps insertion order, and every hit re-inserts its key,
        # so the first entry is always the least recently used
        self._entries: dict[str, tuple[object, int]] = {}
        self._since_sweep = 0

    async def hit(self, key: str, cost: int = 1) -> Decision:
        return self.hit_now(key, cost)

    def hit_now(self, key: str, cost: int = 1) -> Decision:
        """The decision itself, synchronous: what ``hit`` awaits, and what property tests call directly."""
        check_cost(cost, self.limit)
        now = self.now_us()
        with self._lock:
            entry = self._entries.pop(key, None)
            state = entry[0] if entry is not None and entry[1] > now else None
            step = self._decide(state, now, self._window, cost)
            if step.state is not None and step.expires_at_us > now:
                self._entries[key] = (step.state, step.expires_at_us)
                if len(self._entries) > self.max_keys:  # full of live keys: forget the least recently used
                    del self._entries[next(iter(self._entries))]
            self._since_sweep += 1
            if self._since_sweep >= max(len(self._entries), MIN_SWEEP_INTERVAL):
                self._sweep(now)
        return decision_from_reply(self.limit.limit, step.reply)

    def now_us(self) -> int:
        return round(self._clock() * US_PER_S)

    def __len__(self) -> int:
        """Keys currently held, expired or not (a sweep may not have run yet)."""
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` still has live state, i.e. is not forgotten."""
        entry = self._entries.get(key) if isinstance(key, str) else None
        return entry is not None and entry[1] > self.now_us()

    def ttl(self, key: str) -> float | None:
        """Seconds until ``key`` is forgotten, or None when nothing is held for it (like Redis ``PTTL``)."""
        entry = self._entries.get(key)
        now = self.now_us()
        if entry is None or entry[1] <= now:
            return None
        return (entry[1] - now) / US_PER_S

    def sweep(self) -> int:
        """Forget every expired key now; returns how many were dropped."""
        with self._lock:
            return self._sweep(self.now_us())

    def _sweep(self, now: int) -> int:
        before = len(self._entries)
        self._entries = {k: e for k, e in self._entries.items() if e[1] > now}
        self._since_sweep = 0
        return before - len(self._entries)
