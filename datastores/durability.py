"""How many acknowledged writes does Redis lose to ``kill -9``? Measured on a private server, not assumed.

Writers append unique ids with ``RPUSH`` and note each id once Redis replied OK. At a random moment the
server gets ``SIGKILL``, then restarts on the same folder and we count the acknowledged ids that are gone.
With the stock snapshot rules (``save 3600 1 300 100 60 10000``, no AOF) everything since the last
``BGSAVE`` is lost: up to a minute of writes under load, all of them before the first snapshot. With
``appendonly yes`` and ``appendfsync everysec`` Redis ``write()``s the AOF before it sends the replies, so a
*process* crash leaves the data in the kernel's page cache and loses nothing, except when a background
``fsync`` is still running: then Redis postpones the write (up to two seconds) but still replies. The one
second of ``everysec`` is what a *machine* crash (power, kernel panic) can lose, which ``kill -9`` does not
model (https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from datastores.redisserver import STOCK_SAVE, private_redis

CONFIGS: dict[str, tuple[str, ...]] = {
    "default": ("--save", STOCK_SAVE, "--appendonly", "no"),
    "aof_everysec": ("--save", STOCK_SAVE, "--appendonly", "yes", "--appendfsync", "everysec"),
}


@dataclass(frozen=True)
class LossReport:
    config: str
    acknowledged: int
    lost: int
    killed_after_s: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


async def measure_loss(
    config: str, window_s: tuple[float, float], writers: int = 8, rng: random.Random | None = None
) -> LossReport:
    """Write until a random moment in ``window_s``, ``kill -9``, restart, count acknowledged ids missing."""
    kill_after = (rng or random.Random()).uniform(*window_s)
    with private_redis(*CONFIGS[config]) as server:
        acked: list[list[int]] = [[] for _ in range(writers)]
        # no retries: a write either got its reply from this server process or it is not acknowledged
        client = aioredis.Redis(port=server.port, socket_timeout=10, retry=Retry(NoBackoff(), 0))
        try:
            tasks = [asyncio.create_task(_write(client, k, acked[k])) for k in range(writers)]
            await asyncio.sleep(kill_after)
            server.kill()  # mid-stream: some writes are in flight and never acknowledged
            await asyncio.gather(*tasks)
        finally:
            await client.aclose()
        server.start()
        restarted = aioredis.Redis(port=server.port, socket_timeout=30)
        try:
            lost = 0
            for k, ids in enumerate(acked):
                present = {int(v) for v in await restarted.lrange(f"acked:{k}", 0, -1)}
                lost += sum(1 for i in ids if i not in present)
        finally:
            await restarted.aclose()
    return LossReport(config, sum(map(len, acked)), lost, round(kill_after, 3))


async def _write(client: aioredis.Redis, writer: int, acked: list[int]) -> None:
    key = f"acked:{writer}"
    with contextlib.suppress(RedisError, OSError):  # the kill ends every writer with a connection error
        i = 0
        while True:
            await client.rpush(key, i)
            acked.append(i)  # only now is it acknowledged
            i += 1
