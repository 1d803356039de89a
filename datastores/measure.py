"""Measuring tools for the benchmark: percentiles, timed calls, write throughput, and memory per structure."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence

import redis.asyncio as aioredis

from datastores.model import RECENT_LIMIT, Play
from datastores.protocol import PlayStore
from datastores.redisserver import private_redis


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def timed_ms(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def latencies_ms(calls: Sequence[Callable[[], Awaitable[object]]]) -> list[float]:
    """One call at a time (latency, not throughput: nothing queues behind anything else)."""
    return [await timed_ms(call) for call in calls]


def by_worker(plays: Sequence[Play], workers: int) -> list[list[Play]]:
    """Split plays so each user's plays go to one worker, in order: concurrency without reordering a user."""
    lanes: list[list[Play]] = [[] for _ in range(workers)]
    for play in plays:
        lanes[play.user_id % workers].append(play)
    return lanes


async def write_throughput(store: PlayStore, plays: Sequence[Play], concurrency: int) -> float:
    """Plays per second, each one written and acknowledged on its own by one of ``concurrency`` clients."""

    async def lane(mine: list[Play]) -> None:
        for play in mine:
            await store.record_play(play)

    started = time.perf_counter()
    await asyncio.gather(*(lane(mine) for mine in by_worker(plays, concurrency)))
    return len(plays) / (time.perf_counter() - started)


async def used_memory(client: aioredis.Redis) -> int:
    return int((await client.info("memory"))["used_memory"])


async def recent_structure_bytes(users: int, plays_per_user: int = 2 * RECENT_LIMIT) -> dict[str, float]:
    """Bytes per user of three ways to keep the last 50 plays, each filled past its cap on a private server.

    ``list``: LPUSH + LTRIM; ``stream``: XADD MAXLEN 50 (exact); ``sorted_set``: ZADD by time, then
    ZREMRANGEBYRANK.
    """
    base_ms = 1_704_067_200_000
    result: dict[str, float] = {}
    with private_redis() as server:
        client = aioredis.Redis(port=server.port)
        try:
            for kind in ("list", "stream", "sorted_set"):
                await client.flushall()
                before = await used_memory(client)
                for i in range(plays_per_user):
                    pipe = client.pipeline(transaction=False)
                    for user in range(users):
                        ms = base_ms + (i * users + user) * 1000
                        _append(pipe, kind, f"r:{user}", track=(user * 31 + i * 17) % 100_000, ms=ms)
                    await pipe.execute()
                result[kind] = round((await used_memory(client) - before) / users, 1)
        finally:
            await client.aclose()
    return result


def _append(pipe: aioredis.client.Pipeline, kind: str, key: str, track: int, ms: int) -> None:
    entry = f"{track}:{ms}"
    if kind == "list":
        pipe.lpush(key, entry)
        pipe.ltrim(key, 0, RECENT_LIMIT - 1)
    elif kind == "stream":
        pipe.xadd(key, {"t": track, "at": ms}, maxlen=RECENT_LIMIT, approximate=False)
    else:
        pipe.zadd(key, {entry: ms})
        pipe.zremrangebyrank(key, 0, -RECENT_LIMIT - 1)


def per_million(total_bytes: float, plays: int) -> int:
    return round(total_bytes / plays * 1_000_000)
