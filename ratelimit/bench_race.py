"""The Q11 figures of the benchmark: the naive limiter's cost per decision, and its race without any help.

``race`` sends ``concurrent`` first requests at a fresh key, many times, with nothing forcing an interleaving
(unlike the tests, which force the worst one): ordinary concurrency over a network is enough for the naive
limiter's GET, compare, INCRBY to admit more than the limit, while the Lua script admits exactly the limit.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from redis.asyncio import Redis

from ratelimit.benchkit import Opened, Opener
from ratelimit.decision import Algorithm, Limit, Limiter
from ratelimit.naive import NaiveFixedWindowLimiter
from ratelimit.redis_backend import RedisLimiter
from ratelimit.runner import ScriptRunner
from ratelimit.wirecount import WireCounts, counting_connection

RACE_LIMIT = Limit(10, 60)


def naive_opener(limit: Limit) -> Opener:
    """Opens the naive limiter the way the benchmark opens the others."""

    async def open_naive(port: int, algorithm: Algorithm, counts: WireCounts | None) -> Opened:
        assert algorithm == "fixed_window"  # the naive limiter is a fixed window
        options: dict[str, Any] = {"connection_class": counting_connection(counts)} if counts else {}
        client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=5, **options)
        limiter = NaiveFixedWindowLimiter(client, limit, prefix="naive:")
        return limiter.hit, client.aclose

    return open_naive


async def race(port: int, concurrent: int, trials: int) -> dict[str, float | int]:
    """Admitted out of ``concurrent`` simultaneous first requests, naive against Lua, over ``trials`` keys."""
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=5)
    naive = NaiveFixedWindowLimiter(client, RACE_LIMIT, prefix="race:naive:")
    # one call each, like the naive one: no pipelining to hide behind
    lua = RedisLimiter(
        ScriptRunner(client, auto_pipeline=False), "fixed_window", RACE_LIMIT, prefix="race:lua:"
    )
    admitted: dict[str, list[int]] = {"naive": [], "lua": []}
    try:
        for trial in range(trials):
            limiter: Limiter
            for name, limiter in (("naive", naive), ("lua", lua)):
                decisions = await asyncio.gather(*(limiter.hit(f"victim-{trial}") for _ in range(concurrent)))
                admitted[name].append(sum(d.allowed for d in decisions))
    finally:
        await client.aclose()
    return {
        "limit": RACE_LIMIT.limit,
        "concurrent_requests": concurrent,
        "trials": trials,
        "naive_admitted_mean": round(statistics.mean(admitted["naive"]), 1),
        "naive_admitted_max": max(admitted["naive"]),
        "lua_admitted_min": min(admitted["lua"]),
        "lua_admitted_max": max(admitted["lua"]),
    }
