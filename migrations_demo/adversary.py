"""The adversary: a long transaction that wrote to ``plays`` and has not committed yet.

A nightly batch job, a stuck worker, a developer's forgotten ``BEGIN`` in psql: it holds ROW EXCLUSIVE on
``plays``, harmless for everyone else, but it conflicts with the locks DDL needs. A DDL statement without
``lock_timeout`` then waits behind it, and every query that arrives afterwards queues behind the DDL: the
lock-queue trap. With ``lock_timeout`` the DDL gives up after one second, the queue drains, and the retry
succeeds once the adversary is gone.
"""

from __future__ import annotations

import asyncio

import asyncpg


async def hold_lock(conn: asyncpg.Connection, hold_s: float, holding: asyncio.Event) -> None:
    """Hold ROW EXCLUSIVE on ``plays`` for ``hold_s`` seconds; ``holding`` is set once the lock is held."""
    async with conn.transaction():
        await conn.execute("LOCK TABLE plays IN ROW EXCLUSIVE MODE")
        holding.set()
        await asyncio.sleep(hold_s)
