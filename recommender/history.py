"""The online play history: plays recorded after the artifact was trained, shared by every replica.

A user's online plays live in one Redis hash (item id -> count, plus a ``#gen`` generation counter); the
service adds them to the artifact's history and folds the user in again. Both writers -- ``POST
/users/{id}/plays`` and the stream consumer -- go through one Lua script that, atomically, remembers the event
id (``SET NX EX``: a redelivered event changes nothing), adds the counts, bumps the generation and, for a
stream entry, ``XACK``\\ s it: exactly-once *effect* on at-least-once delivery. All keys carry the stream's
name as their hash tag (``recommender:{plays}:hist:42``), so the script's keys share one Redis Cluster slot
with the stream it acknowledges.

The generation is part of every cached list's key, so a play invalidates the user's lists on every replica at
once, and a replica still computing from the old history writes its result under the old, unreachable key
(deleting keys instead would race with it). Embedded mode keeps the same semantics in process memory.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis.asyncio as aioredis

from observability import get_logger
from ratelimit import CircuitBreaker

GENERATION = "#gen"  # never an item id: ids are [A-Za-z0-9_.-]

APPLY_PLAYS = """
local fresh = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1])
local gen
if fresh and #ARGV >= 4 then
  for i = 4, #ARGV, 2 do
    redis.call('HINCRBYFLOAT', KEYS[2], ARGV[i], ARGV[i + 1])
  end
  gen = redis.call('HINCRBY', KEYS[2], '#gen', 1)
else
  gen = tonumber(redis.call('HGET', KEYS[2], '#gen') or '0')
end
if ARGV[3] ~= '' then
  redis.call('XACK', KEYS[3], ARGV[2], ARGV[3])
end
if fresh then return {1, gen} end
return {0, gen}
"""


class HistoryUnavailableError(RuntimeError):
    """The history store cannot take a write now (Redis down): the caller answers 503."""


@dataclass(frozen=True)
class OnlineHistory:
    plays: dict[str, float]
    generation: int


@dataclass(frozen=True)
class Applied:
    fresh: bool  # False: this event id was applied before, nothing changed
    generation: int


class HistoryStore(Protocol):
    async def get(self, user: str) -> OnlineHistory | None:
        """The user's online plays; ``None`` when the store cannot answer (the caller degrades)."""
        ...

    async def add(self, user: str, plays: Mapping[str, float], event_id: str) -> Applied: ...


@dataclass
class MemoryHistory:
    """Embedded mode: one process, so a dict is the whole truth; event ids remembered up to ``max_seen``."""

    max_seen: int = 100_000
    _users: dict[str, OnlineHistory] = field(default_factory=dict)
    _seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    async def get(self, user: str) -> OnlineHistory | None:
        return self._users.get(user, OnlineHistory({}, 0))

    async def add(self, user: str, plays: Mapping[str, float], event_id: str) -> Applied:
        current = self._users.get(user, OnlineHistory({}, 0))
        if event_id in self._seen:
            return Applied(fresh=False, generation=current.generation)
        self._seen[event_id] = None
        if len(self._seen) > self.max_seen:
            self._seen.popitem(last=False)
        if not plays:
            return Applied(fresh=True, generation=current.generation)
        merged = dict(current.plays)
        for item, count in plays.items():
            merged[item] = merged.get(item, 0.0) + float(count)
        self._users[user] = OnlineHistory(merged, current.generation + 1)
        return Applied(fresh=True, generation=current.generation + 1)


class RedisHistory:
    """The shared store; reads behind a short timeout and a breaker, like the cache (a dead Redis is slow)."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str,
        stream: str,
        dedupe_ttl_s: int = 7 * 24 * 3600,
        timeout_s: float = 0.05,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.client = client
        self.stream = stream
        self.dedupe_ttl_s = dedupe_ttl_s
        self.timeout_s = timeout_s
        self.breaker = breaker or CircuitBreaker()
        self._base = f"{prefix}{{{stream}}}:"  # the hash tag: the stream's own name (see module docstring)
        self._script = client.register_script(APPLY_PLAYS)

    def history_key(self, user: str) -> str:
        return f"{self._base}hist:{user}"

    def seen_key(self, event_id: str) -> str:
        return f"{self._base}seen:{event_id}"

    async def get(self, user: str) -> OnlineHistory | None:
        if not self.breaker.allow():
            return None
        try:
            async with asyncio.timeout(self.timeout_s):
                raw = await self.client.hgetall(self.history_key(user))
        except Exception as exc:  # a history read failure degrades the answer, never fails it
            self.breaker.record_failure()
            get_logger("recommender.history").warning("history_degraded", reason=type(exc).__name__)
            return None
        self.breaker.record_success()
        return decode(raw)

    async def add(self, user: str, plays: Mapping[str, float], event_id: str) -> Applied:
        try:
            async with asyncio.timeout(max(self.timeout_s, 1.0)):  # a write may wait a little longer
                return await self.apply(user, plays, event_id)
        except Exception as exc:
            raise HistoryUnavailableError(
                f"the play history store is unavailable ({type(exc).__name__})"
            ) from exc

    async def apply(
        self, user: str, plays: Mapping[str, float], event_id: str, *, group: str = "", entry_id: str = ""
    ) -> Applied:
        """The Lua script: dedupe by ``event_id``, add ``plays``, bump the generation, XACK ``entry_id``."""
        args: list[Any] = [self.dedupe_ttl_s, group, entry_id]
        for item, count in plays.items():
            args.extend((item, repr(float(count))))
        keys = [self.seen_key(event_id), self.history_key(user), self.stream]
        fresh, generation = await self._script(keys=keys, args=args)
        return Applied(fresh=bool(int(fresh)), generation=int(generation))


def decode(raw: Mapping[Any, Any]) -> OnlineHistory:
    generation = 0
    plays: dict[str, float] = {}
    for key, value in raw.items():
        name = key.decode()
        if name == GENERATION:
            generation = int(value)
        else:
            plays[name] = float(value)
    return OnlineHistory(plays, generation)
