"""Code for child processes (multiprocessing with spawn, so module-level functions a child can import): the
burst clients of the accuracy test, and the process that dies in the middle of a decision in the Q11 tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event

from redis.asyncio import Redis
from redis.asyncio.connection import Connection

from ratelimit.decision import Algorithm, Limit, Limiter
from ratelimit.factory import create_limiter, redis_client
from ratelimit.naive import NaiveFixedWindowLimiter, Step
from ratelimit.redis_backend import RedisLimiter
from ratelimit.runner import ScriptRunner
from ratelimit.scripts import script

BurstResult = tuple[
    str, int, int, float, float
]  # (key, round, admitted, started, finished) on time.monotonic
WINDOW_MARGIN_S = 0.1  # wait this much past a window before the next round, for the spread of the first hits


@dataclass(frozen=True)
class BurstJob:
    """Bursts at one key per entry of ``plan``, ``rounds`` times each, all processes starting each together.

    Between rounds at one key each process waits until ``period`` has passed since it started the previous
    round, so the next round meets a new window.
    """

    redis_url: str
    prefix: str
    plan: tuple[tuple[Algorithm, str, Limit, int], ...]  # (algorithm, key, limit, rounds)
    clients: int  # concurrent clients in each process
    hits: int  # requests each client sends per round


def burst(job: BurstJob, barrier: Barrier, results: Queue[BurstResult]) -> None:
    asyncio.run(_burst(job, barrier, results))


async def _burst(job: BurstJob, barrier: Barrier, results: Queue[BurstResult]) -> None:
    client = redis_client(job.redis_url, timeout_s=30)
    try:
        for algorithm, key, limit, rounds in job.plan:
            limiter = create_limiter(algorithm, limit, redis=client, prefix=job.prefix)
            started = 0.0
            for round_ in range(rounds):
                if round_:
                    await asyncio.sleep(max(0.0, started + limit.period + WINDOW_MARGIN_S - time.monotonic()))
                await asyncio.to_thread(barrier.wait, 120)
                started = time.monotonic()
                admitted = await asyncio.gather(
                    *(_one_client(limiter, key, job.hits) for _ in range(job.clients))
                )
                results.put((key, round_, sum(admitted), started, time.monotonic()))
    finally:
        await client.aclose()


async def _one_client(limiter: Limiter, key: str, hits: int) -> int:
    admitted = 0
    for _ in range(hits):
        admitted += (await limiter.hit(key)).allowed
    return admitted


@dataclass(frozen=True)
class CrashJob:
    implementation: str  # "naive" or "lua"
    redis_url: str
    prefix: str
    identity: str
    limit: Limit


def die_mid_decision(job: CrashJob, at_crash_point: Event) -> None:
    """Start one decision and freeze at its worst moment, telling the parent, which then SIGKILLs us.

    Naive: between INCRBY and EXPIRE. Lua: right after the one script call has been written to Redis (there is
    no "between" inside an atomic script; this is the last moment the process could matter).
    """
    asyncio.run(_die_mid_decision(job, at_crash_point))


async def _die_mid_decision(job: CrashJob, at_crash_point: Event) -> None:
    def freeze() -> None:
        at_crash_point.set()
        time.sleep(3600)  # blocks the whole process on purpose: the parent kills it here

    limiter: Limiter
    if job.implementation == "naive":

        async def between_steps(step: Step) -> None:
            if step == "after_incr":
                freeze()

        client = Redis.from_url(job.redis_url)
        limiter = NaiveFixedWindowLimiter(client, job.limit, prefix=job.prefix, between_steps=between_steps)
    else:

        class FreezeAfterScriptCall(Connection):
            async def send_packed_command(
                self, command: bytes | str | Iterable[bytes], check_health: bool = True
            ) -> None:
                await super().send_packed_command(command, check_health)
                if isinstance(command, bytes) and b"EVALSHA" in command:
                    freeze()

        runner = ScriptRunner(
            redis_client(job.redis_url, timeout_s=30, connection_class=FreezeAfterScriptCall)
        )
        await runner.load_scripts(
            script("fixed_window")
        )  # so the frozen call is the real one, not a NOSCRIPT
        limiter = RedisLimiter(runner, "fixed_window", job.limit, prefix=job.prefix)
    await limiter.hit(job.identity)
