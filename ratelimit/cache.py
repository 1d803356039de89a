"""Stampede-safe cache-aside: one recomputation per hot key, not one per request.

When a hot key expires, every request that misses recomputes it at once (a *cache stampede*, or dog-pile): the
database sees hundreds of identical queries exactly when it can least afford them. Two defences, one per
scale:

- **In-process single-flight**: within one process, the first request to miss starts the computation and
  every other request for that key awaits the same task (Go's ``singleflight``): 500 concurrent misses, one
  computation. A miss whose read raced with a computation that finished meanwhile reuses its result.
- **XFetch across processes** (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache Stampede
  Prevention", PVLDB 8(8), 2015): store with the value how long it took to compute (``delta``); on every
  read, recompute *early* when ``now - delta * beta * ln(rand()) >= expiry``. The closer the expiry and the
  more expensive the value, the likelier one reader refreshes it before it expires, so in the common case no
  process ever sees the miss. The paper proves this exponential form optimal; ``beta > 1`` favours earlier
  refreshes.

We take ``expiry - now`` from Redis ``PTTL`` (fetched in the same round trip as the value), so app-server
clocks never enter the formula. TTLs get a little downward jitter so keys written together do not all expire
in the same millisecond; ``invalidate`` deletes explicitly (and stops an in-flight computation here from
writing back the value it started before the invalidation). A cache that is down is a slower cache, not an
outage: reads and writes have a short timeout behind a circuit breaker, and on failure we compute and serve,
with a metric (``cache_degraded_total``) and a log line. Values are ``bytes``; callers serialise (e.g.
orjson).
"""

from __future__ import annotations

import asyncio
import math
import random
import struct
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

import redis.asyncio as aioredis
import structlog
from prometheus_client import Counter

from ratelimit.breaker import CircuitBreaker

Compute = Callable[[], Awaitable[bytes]]
T = TypeVar("T")
_RECENT_KEYS = 256  # enough to cover the keys computed during one read round trip

REQUESTS = Counter("cache_requests_total", "Cache reads by outcome.", ["cache", "result"])
COMPUTATIONS = Counter(
    "cache_computations_total", "Values computed because of a miss or an early refresh.", ["cache"]
)
DEGRADED = Counter(
    "cache_degraded_total", "Cache operations skipped or failed; served by computing.", ["cache", "operation"]
)


def _log() -> structlog.typing.FilteringBoundLogger:
    # looked up per use, so a logging configuration applied after import (or by a test) is always honoured
    return structlog.get_logger("ratelimit.cache")  # type: ignore[no-any-return]


class Cache(Protocol):
    async def get_or_compute(self, key: str, compute: Compute, ttl: float) -> bytes: ...

    async def invalidate(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Entry:
    value: bytes
    delta: float  # seconds the computation that produced it took
    remaining: float  # seconds until it expires


def xfetch_due(delta: float, remaining: float, beta: float, rand: float) -> bool:
    """Vattani et al.'s test, rearranged: ``-delta * beta * ln(rand) >= expiry - now``."""
    if remaining <= 0 or rand <= 0.0:  # expired, or ln(0) = -inf: refresh
        return True
    return -delta * beta * math.log(rand) >= remaining


class StampedeSafeCache(ABC):
    """Single-flight + XFetch + TTL jitter over a store given by ``_read`` / ``_write`` / ``_delete``."""

    def __init__(
        self,
        *,
        name: str,
        beta: float = 1.0,
        ttl_jitter: float = 0.1,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if beta <= 0 or not 0 <= ttl_jitter < 1:
            raise ValueError("beta must be > 0 and ttl_jitter in [0, 1)")
        self.name = name
        self.beta = beta
        self.ttl_jitter = ttl_jitter
        self._rand = rand
        self._flights: dict[str, asyncio.Task[bytes]] = {}
        self._invalidated_in_flight: set[str] = set()
        # key -> (when its last computation here was stored, value); a few recent keys only
        self._recent: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get_or_compute(self, key: str, compute: Compute, ttl: float) -> bytes:
        asked_at = time.monotonic()
        entry = await self._read(key)
        recent = self._recent.get(key)
        if entry is None and recent is not None and recent[0] >= asked_at:
            # our read raced with a computation that finished meanwhile: the miss is already stale
            REQUESTS.labels(self.name, "hit").inc()
            return recent[1]
        if entry is not None:
            if not xfetch_due(entry.delta, entry.remaining, self.beta, self._rand()):
                REQUESTS.labels(self.name, "hit").inc()
                return entry.value
            if key in self._flights:  # someone here is already refreshing; the old value is still valid
                REQUESTS.labels(self.name, "hit").inc()
                return entry.value
            REQUESTS.labels(self.name, "early_refresh").inc()
        else:
            REQUESTS.labels(self.name, "miss").inc()
        return await self._single_flight(key, compute, ttl)

    async def invalidate(self, key: str) -> None:
        if key in self._flights:
            self._invalidated_in_flight.add(key)
        self._recent.pop(key, None)
        await self._delete(key)

    async def _single_flight(self, key: str, compute: Compute, ttl: float) -> bytes:
        task = self._flights.get(key)
        if task is None:
            task = asyncio.ensure_future(self._recompute(key, compute, ttl))
            self._flights[key] = task
            task.add_done_callback(partial(self._landed, key))
        # shield: one impatient caller giving up must not cancel the computation the others are waiting for
        return await asyncio.shield(task)

    def _landed(self, key: str, task: asyncio.Task[bytes]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # mark it retrieved even if every waiter went away

    async def _recompute(self, key: str, compute: Compute, ttl: float) -> bytes:
        started = time.perf_counter()
        value = await compute()
        delta = time.perf_counter() - started
        COMPUTATIONS.labels(self.name).inc()
        if key in self._invalidated_in_flight:  # computed from data older than the invalidation: serve only
            self._invalidated_in_flight.discard(key)
            return value
        await self._write(key, value, delta, ttl * (1 - self.ttl_jitter * self._rand()))
        self._recent[key] = (time.monotonic(), value)
        self._recent.move_to_end(key)
        if len(self._recent) > _RECENT_KEYS:
            self._recent.popitem(last=False)
        return value

    @abstractmethod
    async def _read(self, key: str) -> Entry | None: ...

    @abstractmethod
    async def _write(self, key: str, value: bytes, delta: float, ttl: float) -> None: ...

    @abstractmethod
    async def _delete(self, key: str) -> None: ...


class MemoryCache(StampedeSafeCache):
    """The in-process twin for embedded mode: same semantics, an LRU-bounded dict instead of Redis."""

    def __init__(
        self,
        *,
        name: str = "memory",
        max_entries: int = 10_000,
        beta: float = 1.0,
        ttl_jitter: float = 0.1,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name=name, beta=beta, ttl_jitter=ttl_jitter, rand=rand)
        self.max_entries = max_entries
        self._clock = clock
        self._store: OrderedDict[str, tuple[bytes, float, float]] = OrderedDict()  # value, delta, expires_at

    async def _read(self, key: str) -> Entry | None:
        item = self._store.get(key)
        if item is None:
            return None
        value, delta, expires_at = item
        remaining = expires_at - self._clock()
        if remaining <= 0:
            del self._store[key]
            return None
        self._store.move_to_end(key)
        return Entry(value, delta, remaining)

    async def _write(self, key: str, value: bytes, delta: float, ttl: float) -> None:
        self._store[key] = (value, delta, self._clock() + ttl)
        self._store.move_to_end(key)
        while len(self._store) > self.max_entries:
            self._store.popitem(last=False)

    async def _delete(self, key: str) -> None:
        self._store.pop(key, None)


_HEADER = struct.Struct("!d")  # delta, in front of the value: one key, one GET


class RedisCache(StampedeSafeCache):
    """Values in Redis under ``prefix + key`` as ``delta || value``, PX expiry; ``PTTL`` is ``remaining``."""

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        *,
        name: str = "redis",
        beta: float = 1.0,
        ttl_jitter: float = 0.1,
        timeout_s: float = 0.05,
        breaker: CircuitBreaker | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(name=name, beta=beta, ttl_jitter=ttl_jitter, rand=rand)
        self.client = client
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.breaker = breaker or CircuitBreaker()

    async def _read(self, key: str) -> Entry | None:
        async def read() -> tuple[bytes | None, int]:
            pipe = self.client.pipeline(transaction=False)  # GET and PTTL in one round trip
            pipe.get(self.prefix + key)
            pipe.pttl(self.prefix + key)
            blob, pttl = await pipe.execute()
            return blob, int(pttl)

        result = await self._guarded("read", read)
        if result is None:
            return None
        blob, pttl = result
        if blob is None or pttl == -2 or len(blob) < _HEADER.size:  # PTTL -2: expired between GET and PTTL
            return None
        (delta,) = _HEADER.unpack_from(blob)
        remaining = math.inf if pttl == -1 else pttl / 1000  # -1: no expiry, i.e. written by someone else
        return Entry(blob[_HEADER.size :], delta, remaining)

    async def _write(self, key: str, value: bytes, delta: float, ttl: float) -> None:
        blob = _HEADER.pack(delta) + value
        px = max(1, round(ttl * 1000))
        await self._guarded("write", lambda: self.client.set(self.prefix + key, blob, px=px))

    async def _delete(self, key: str) -> None:
        await self._guarded("delete", lambda: self.client.delete(self.prefix + key))

    async def _guarded(self, operation: str, call: Callable[[], Awaitable[T]]) -> T | None:
        """``call()`` within the timeout and the breaker; ``None``, a metric and a log line if Redis fails."""
        if not self.breaker.allow():
            self._degraded(operation, "breaker_open")
            return None
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await call()
        except Exception as exc:  # a cache failure must cost latency at most, never an error
            self.breaker.record_failure()
            self._degraded(operation, type(exc).__name__)
            return None
        self.breaker.record_success()
        return result

    def _degraded(self, operation: str, reason: str) -> None:
        DEGRADED.labels(self.name, operation).inc()
        _log().warning("cache_degraded", cache=self.name, operation=operation, reason=reason)
