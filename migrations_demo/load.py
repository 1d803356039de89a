"""Open-loop load at a fixed rate, recording every request: what clients see while a migration runs.

Requests start on a fixed schedule (``i / rate``) whatever happens to earlier ones, and latency is measured
from the *scheduled* start, so a stall shows up in full instead of silently slowing the generator down
("coordinated omission", Gil Tene). Each request has a 5 s budget, like an app's request timeout: the server
cancels a statement after 5 s (``statement_timeout``) and a request that ends later counts as an error at 5 s.

The client is asyncpg itself rather than SQLAlchemy: it is the cheapest client on two cores, so the generator
is not what we measure, and outside a transaction it re-prepares a cached statement whose result type a
migration changed (``int`` -> ``bigint``) instead of failing the request once per pooled connection.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from migrations_demo.workload import Request, RequestMix


@dataclass(slots=True)
class Record:
    """One request as the client saw it. ``start_s`` is relative to the run's clock origin."""

    start_s: float
    latency_ms: float
    op: str
    version: str
    ok: bool
    error: str | None
    args: tuple[int, ...]
    inserted_id: int | None = None


class LoadGenerator:
    def __init__(
        self,
        pool: asyncpg.Pool,
        mix: RequestMix,
        *,
        rate: float,
        origin: float,
        versions: tuple[str, ...],
        timeout_s: float = 5.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.pool = pool
        self.mix = mix
        self.rate = rate
        self.origin = origin  # loop.time() that start_s is measured from
        self.versions = versions  # switched by the harness during a rolling deploy
        self.timeout_s = timeout_s
        self.records: list[Record] = []
        self._stop = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Fire requests on schedule until :meth:`stop`, then wait for the ones in flight."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        i = 0
        while not self._stop.is_set():
            scheduled = start + i / self.rate
            delay = scheduled - loop.time()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), delay)
                    break
                except TimeoutError:
                    pass
            task = asyncio.create_task(self._one(scheduled, self.mix.next(self.versions)))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            i += 1
        await asyncio.gather(*self._in_flight)

    def stop(self) -> None:
        self._stop.set()

    async def _one(self, scheduled: float, request: Request) -> None:
        loop = asyncio.get_running_loop()
        error: str | None = None
        inserted: int | None = None
        budget = self.timeout_s - (loop.time() - scheduled)
        try:
            # a request already past its budget (the generator fell behind) gets no connection at all
            async with self.pool.acquire(timeout=max(budget, 0.0)) as conn:
                if request.op == "insert":
                    inserted = await conn.fetchval(request.sql, *request.args)
                elif request.op == "read":
                    await conn.fetchrow(request.sql, *request.args)
                else:
                    await conn.execute(request.sql, *request.args)
        except TimeoutError:
            error = "timeout"
        except asyncpg.PostgresError as exc:
            error = f"{exc.sqlstate}: {exc}".splitlines()[0][:200]
        except (asyncpg.InterfaceError, OSError) as exc:  # connection lost or unusable: the request failed
            error = f"{type(exc).__name__}: {exc}"[:200]
        latency_ms = (loop.time() - scheduled) * 1000
        if latency_ms > self.timeout_s * 1000:
            # the client gave up: an error at the timeout value, whatever the server did afterwards
            error, latency_ms = error or "timeout", self.timeout_s * 1000
        self.records.append(
            Record(
                start_s=scheduled - self.origin,
                latency_ms=latency_ms,
                op=request.op,
                version=request.version,
                ok=error is None,
                error=error,
                args=request.args,
                inserted_id=inserted if error is None else None,
            )
        )


async def create_pool(
    dsn: str, schema: str, application_name: str, *, size: int = 20, timeout_s: float = 5.0
) -> asyncpg.Pool:
    """An app-like pool: fixed size, each session with the request budget as ``statement_timeout``."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=size,
        max_size=size,
        server_settings={
            "search_path": schema,
            "application_name": application_name,
            "statement_timeout": str(int(timeout_s * 1000)),
        },
    )
    if pool is None:  # asyncpg types the result as optional
        raise RuntimeError("asyncpg did not create a pool")
    return pool
