"""Which client waits for a lock, for how long, and behind whom: ``pg_locks`` + ``pg_stat_activity`` / 50 ms.

Only the load's sessions count (``application_name`` ``<run>:load``): the question is what the application
felt, not how long the migration itself waited (a ``CREATE INDEX CONCURRENTLY`` waiting for old
transactions stalls nobody). Other work on a shared server never pollutes the numbers either.
``pg_locks.waitstart`` (PostgreSQL 14+) says when a wait began, and ``pg_blocking_pids`` names the session in
front of it in the queue: during a naive migration that is the DDL, itself perhaps queued behind a long
transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import asyncpg

LONGEST_WAIT = """
SELECT l.pid, a.application_name, extract(epoch FROM clock_timestamp() - l.waitstart) * 1000 AS wait_ms
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND l.waitstart IS NOT NULL AND a.application_name LIKE $1
  AND a.datname = current_database()
ORDER BY l.waitstart LIMIT 1
"""

HOLDER = """
SELECT b.application_name, left(regexp_replace(b.query, '\\s+', ' ', 'g'), 160) AS query
FROM pg_stat_activity b WHERE b.pid = (pg_blocking_pids($1))[1]
"""


@dataclass(frozen=True)
class LockSample:
    at_s: float  # relative to the run's clock origin
    wait_ms: float
    waiter: str
    holder: str


class LockSampler:
    def __init__(
        self, conn: asyncpg.Connection, prefix: str, *, origin: float, interval_s: float = 0.05
    ) -> None:
        self.conn = conn
        self.pattern = prefix.replace("_", r"\_") + ":load"
        self.origin = origin
        self.interval_s = interval_s
        self.samples: list[LockSample] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            started = loop.time()
            row = await self.conn.fetchrow(LONGEST_WAIT, self.pattern)
            if row is not None:
                holder = await self.conn.fetchrow(HOLDER, row["pid"])
                who = f"{holder['application_name']}: {holder['query']}" if holder else "(gone)"
                self.samples.append(
                    LockSample(
                        started - self.origin, float(row["wait_ms"]), str(row["application_name"]), who
                    )
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(0.0, self.interval_s - (loop.time() - started)))

    def stop(self) -> None:
        self._stop.set()

    def longest(self, start_s: float, end_s: float) -> LockSample | None:
        """The longest wait seen between two instants (e.g. the migration window)."""
        inside = [s for s in self.samples if start_s <= s.at_s <= end_s]
        return max(inside, key=lambda s: s.wait_ms, default=None)
