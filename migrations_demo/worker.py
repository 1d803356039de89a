"""The deploy job's side of a live run (seeding, Alembic, the backfill, the naive SQL), in its own process.

A deploy job is not the application: running Alembic (imports, script loading, engine setup) in the process
that generates the load would take the GIL from its event loop, and the pause would show up as request
latency that PostgreSQL never caused. Everything here runs in a spawned worker process; the functions take
and return plain picklable values.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from migrations_demo import backfill, chain
from migrations_demo.locks import LockEvent, LockPolicy
from migrations_demo.seed import Seeded, seed
from migrations_demo.settings import libpq_url


def connect(dsn: str, schema: str, role: str) -> psycopg.Connection[Any]:
    """An autocommit session in ``schema`` named ``<schema>:<role>``, so the lock sampler knows who it is."""
    conn = psycopg.connect(dsn, autocommit=True, application_name=f"{schema}:{role}")
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


def warm_up() -> int:
    """Import Alembic and load every revision once, before the clock starts."""
    return len(chain.revisions())


def prepare(database_url: str, schema: str, revision: str, rows: int, policy: LockPolicy) -> Seeded:
    chain.upgrade(database_url, schema, revision, policy=policy)
    with connect(libpq_url(database_url), schema, "setup") as conn:
        return seed(conn, rows)


def upgrade(
    database_url: str, schema: str, revision: str, policy: LockPolicy
) -> tuple[list[LockEvent], str | None]:
    """Upgrade under the lock policy; the lock timeouts met on the way, and the error if it failed."""
    events: list[LockEvent] = []
    try:
        chain.upgrade(
            database_url,
            schema,
            revision,
            policy=policy,
            events=events,
            application_name=f"{schema}:migration",
        )
    except Exception as exc:
        return events, f"{type(exc).__name__}: {exc}"
    return events, None


def run_backfill(dsn: str, schema: str, job: str, batch_size: int, pause_s: float) -> int:
    with connect(dsn, schema, "backfill") as conn:
        return backfill.run(conn, backfill.JOBS[job], batch_size=batch_size, pause_s=pause_s).rows


def run_naive(dsn: str, schema: str, statements: tuple[str, ...]) -> None:
    """The naive way: one transaction, no lock_timeout, no statement_timeout."""
    with connect(dsn, schema, "migration") as conn, conn.transaction():
        for statement in statements:
            conn.execute(statement)
