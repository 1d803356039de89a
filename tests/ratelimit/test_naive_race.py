"""Q11: the naive limiter's two bugs, reproduced deterministically on real Redis, and absent from the fix.

Each scenario runs twice: against ``NaiveFixedWindowLimiter`` (GET, compare, INCRBY, EXPIRE in separate round
trips), where it must show the bug, and against the Lua ``fixed_window`` (one atomic script), where it must
not. Nothing here sleeps and hopes for a bad interleaving: the naive limiter's ``between_steps`` seam holds
requests between two round trips, and a child process is SIGKILLed exactly at the crash point.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time

import pytest
from redis.asyncio import Redis

from ratelimit.decision import Limit, Limiter
from ratelimit.keys import redis_keys
from ratelimit.naive import NaiveFixedWindowLimiter, StepHook
from ratelimit.redis_backend import RedisLimiter
from ratelimit.runner import ScriptRunner
from tests.ratelimit import algorithms_workers

bug_present_in_naive_only = pytest.mark.parametrize(
    ("implementation", "bug_expected"), [("naive", True), ("lua", False)], ids=["naive", "lua"]
)


def limiter_of(
    implementation: str, client: Redis, limit: Limit, prefix: str, between_steps: StepHook
) -> Limiter:
    if implementation == "naive":
        return NaiveFixedWindowLimiter(client, limit, prefix=prefix, between_steps=between_steps)
    # one call each, no pipelining: each request is its own round trip, as concurrent as the naive ones
    return RedisLimiter(ScriptRunner(client, auto_pipeline=False), "fixed_window", limit, prefix=prefix)


def counter_key(prefix: str, identity: str) -> str:
    """Both implementations keep the window's counter in the same key."""
    (key,) = redis_keys(prefix, "fixed_window", identity)
    return key


async def no_pause(_: object) -> None:
    return None


@pytest.mark.integration
async def test_the_naive_limiter_passes_the_obvious_sequential_test(
    limiter_redis: Redis, redis_prefix: str
) -> None:
    """Why it ships: one request at a time, nothing dying, it counts, refuses and sets an expiry."""
    limiter = NaiveFixedWindowLimiter(limiter_redis, Limit(5, 60), prefix=redis_prefix)
    assert [(await limiter.hit("alice")).allowed for _ in range(7)] == [True] * 5 + [False] * 2
    assert 0 < await limiter_redis.pttl(counter_key(redis_prefix, "alice")) <= 60_000


@pytest.mark.integration
@bug_present_in_naive_only
async def test_concurrent_requests_are_never_admitted_beyond_the_limit(
    implementation: str, bug_expected: bool, limiter_redis: Redis, redis_prefix: str
) -> None:
    """Bug 1, check-then-act: 20 requests all read the counter before any of them increments it."""
    limit, requests = 5, 20
    everyone_has_read = asyncio.Barrier(requests)

    async def between_steps(step: object) -> None:
        if step == "after_get":
            await everyone_has_read.wait()

    limiter = limiter_of(implementation, limiter_redis, Limit(limit, 60), redis_prefix, between_steps)
    decisions = await asyncio.gather(*(limiter.hit("victim") for _ in range(requests)))
    admitted = sum(d.allowed for d in decisions)
    assert (admitted > limit) is bug_expected
    assert admitted == (requests if bug_expected else limit)


@pytest.mark.integration
@bug_present_in_naive_only
async def test_a_process_killed_mid_decision_leaves_no_counter_without_expiry(
    implementation: str, bug_expected: bool, redis_url: str, limiter_redis: Redis, redis_prefix: str
) -> None:
    """Bug 2, INCR-then-EXPIRE: killed in between, the counter never expires and its client is shut out."""
    limit = Limit(3, 0.5)
    key = counter_key(redis_prefix, "victim")
    context = multiprocessing.get_context("spawn")
    at_crash_point = context.Event()
    child = context.Process(
        target=algorithms_workers.die_mid_decision,
        args=(
            algorithms_workers.CrashJob(implementation, redis_url, redis_prefix, "victim", limit),
            at_crash_point,
        ),
    )
    child.start()
    try:
        assert await asyncio.to_thread(at_crash_point.wait, 60), "the child never reached its crash point"
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    deadline = time.monotonic() + 5
    while not await limiter_redis.exists(key):  # the killed process's last write reaches Redis
        assert time.monotonic() < deadline, "the killed decision never reached Redis"
        await asyncio.sleep(0.01)

    assert (await limiter_redis.pttl(key) == -1) is bug_expected  # -1: the key exists and never expires

    # the same client comes back, uses up its window, and waits the window out
    limiter = limiter_of(implementation, limiter_redis, limit, redis_prefix, no_pause)
    for _ in range(limit.limit):
        await limiter.hit("victim")
    await asyncio.sleep(limit.period + 0.1)
    later = await limiter.hit("victim")
    assert later.allowed is not bug_expected  # naive: refused for ever; Lua: a new window
    if bug_expected:
        assert await limiter_redis.pttl(key) == -1


@pytest.mark.integration
async def test_the_lua_script_heals_a_counter_the_naive_limiter_left_without_expiry(
    limiter_redis: Redis, redis_prefix: str
) -> None:
    """Migrating from the naive limiter is safe: the script gives an immortal counter the window it lacked."""
    key = counter_key(redis_prefix, "victim")
    await limiter_redis.set(key, 3)  # what a crash between INCRBY and EXPIRE leaves behind
    limiter = limiter_of("lua", limiter_redis, Limit(3, 0.3), redis_prefix, no_pause)
    assert not (await limiter.hit("victim")).allowed
    assert 0 < await limiter_redis.pttl(key) <= 300
    await asyncio.sleep(0.35)
    assert (await limiter.hit("victim")).allowed
