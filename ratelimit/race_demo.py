"""``answers demo 11``: the two bugs of Q11, live on a private ``redis-server``, beside the committed figures.

The race: simultaneous first requests at a fresh key, nothing forcing the interleaving, naive against Lua. The
crash: a decision that stops between ``INCRBY`` and ``EXPIRE`` (what a killed process leaves in Redis), and
the key's TTL afterwards. Writes nothing but a temp folder for the server; never ``results/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil

from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from observability.results import RESULTS_DIR
from ratelimit.bench_race import RACE_LIMIT, race
from ratelimit.benchkit import private_redis
from ratelimit.decision import Limit
from ratelimit.keys import redis_keys
from ratelimit.naive import NaiveFixedWindowLimiter, Step
from ratelimit.redis_backend import RedisLimiter
from ratelimit.runner import ScriptRunner

COMMITTED = RESULTS_DIR / "ratelimit.json"
CONCURRENT, TRIALS = 50, 5


class ProcessDiedError(Exception):
    """Stands in for SIGKILL: the decision stops here and never runs its next line."""


async def ttl_after_a_crash(port: int) -> dict[str, int]:
    """PTTL of the counter after a decision dies at its worst moment (-1: the key never expires)."""
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=5)

    async def die_after_incr(step: Step) -> None:
        if step == "after_incr":
            raise ProcessDiedError

    limit = Limit(3, 60)
    naive = NaiveFixedWindowLimiter(client, limit, prefix="demo:naive:", between_steps=die_after_incr)
    lua = RedisLimiter(ScriptRunner(client), "fixed_window", limit, prefix="demo:lua:")
    try:
        with contextlib.suppress(ProcessDiedError):
            await naive.hit("victim")
        await lua.hit("victim")  # one atomic step: there is no "between" to die in
        return {
            name: await client.pttl(redis_keys(prefix, "fixed_window", "victim")[0])
            for name, prefix in (("naive", "demo:naive:"), ("lua", "demo:lua:"))
        }
    finally:
        await client.aclose()


async def run(port: int) -> tuple[dict[str, float | int], dict[str, int]]:
    return await race(port, CONCURRENT, TRIALS), await ttl_after_a_crash(port)


def main() -> None:
    console = Console()
    if shutil.which("redis-server") is None:
        console.print(
            "[red]The Q11 demo starts its own Redis; install it with: apt-get install redis-server[/]"
        )
        return
    with private_redis(None) as port:
        live, ttls = asyncio.run(run(port))
    committed = json.loads(COMMITTED.read_text()).get("race", {}) if COMMITTED.exists() else {}
    table = Table(title=f"{CONCURRENT} simultaneous first requests, limit {RACE_LIMIT.limit}")
    table.add_column("")
    table.add_column(f"live ({TRIALS} keys)", justify="right")
    table.add_column("committed (make bench-ratelimit)", justify="right")
    for label, key in (
        ("naive: admitted, mean", "naive_admitted_mean"),
        ("naive: admitted, max", "naive_admitted_max"),
        ("Lua: admitted, min", "lua_admitted_min"),
        ("Lua: admitted, max", "lua_admitted_max"),
    ):
        table.add_row(label, str(live[key]), str(committed.get(key, "not measured yet")))
    console.print(table)
    console.print(
        f"After a decision dies between INCRBY and EXPIRE: naive key PTTL = {ttls['naive']} "
        f"(-1: never expires, its client is locked out once it reaches the limit); "
        f"Lua key PTTL = {ttls['lua']} ms."
    )


if __name__ == "__main__":
    main()
