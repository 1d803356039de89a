"""Engines, sessions and per-request query counting.

Two engines on the same database, because the pool is one of the things v2 fixes: ``/v1`` uses SQLAlchemy's
defaults (5 connections plus 10 overflow *per worker*, so 8 workers may open 120, past PostgreSQL's default
``max_connections`` of 100), ``/v2`` a pool sized for the worker count (``budget // workers``, no overflow, a
short checkout timeout). Neither connects before its first query. PostgreSQL gets the schema through the
connection's ``search_path``; SQLite (embedded mode) shares one engine and gets its tables from the metadata.

Query counting uses SQLAlchemy's ``before_cursor_execute`` event: a context variable holds the current
request's counter, so the N+1 of ``/v1`` is visible per request in ``catalog_db_queries_per_request`` and in
tests (SQLAlchemy propagates context variables into the greenlets that run ORM lazy loads).
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from catalog.models import Base, Playlist
from catalog.settings import CatalogSettings
from observability.pg import driver_url

BEFORE_OPTIMISE = "0001"  # the last revision /v1 is measured at
OPTIMISE = "0002"


class QueryCounter:
    """How many statements the database was sent while this counter was current."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


_current: contextvars.ContextVar[QueryCounter | None] = contextvars.ContextVar(
    "catalog_queries", default=None
)


def start_counting() -> tuple[QueryCounter, contextvars.Token[QueryCounter | None]]:
    counter = QueryCounter()
    return counter, _current.set(counter)


def stop_counting(token: contextvars.Token[QueryCounter | None]) -> None:
    _current.reset(token)


def _count(*_args: Any, **_kwargs: Any) -> None:
    counter = _current.get()
    if counter is not None:
        counter.count += 1


def count_queries(engine: AsyncEngine) -> None:
    if not event.contains(engine.sync_engine, "before_cursor_execute", _count):
        event.listen(engine.sync_engine, "before_cursor_execute", _count)


@dataclass(frozen=True)
class Databases:
    v1: async_sessionmaker[AsyncSession]
    v2: async_sessionmaker[AsyncSession]
    engines: tuple[AsyncEngine, ...]

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def _postgres_engine(settings: CatalogSettings, **pool: Any) -> AsyncEngine:
    return create_async_engine(
        driver_url(settings.database_url, "asyncpg"),
        connect_args={"server_settings": {"search_path": settings.schema_name}},
        **pool,
    )


def create_databases(settings: CatalogSettings) -> Databases:
    if settings.is_sqlite:
        engine = create_async_engine(settings.database_url)
        engines: tuple[AsyncEngine, ...] = (engine,)
        v1_engine = v2_engine = engine
    else:
        v1_engine = _postgres_engine(settings)  # the defaults, as first written
        v2_engine = _postgres_engine(
            settings,
            pool_size=settings.pool_size,
            max_overflow=0,
            pool_timeout=settings.db_pool_timeout_s,
            pool_recycle=1800,  # before any idle-connection killer in between does it for us
        )
        engines = (v1_engine, v2_engine)
    for engine in engines:
        count_queries(engine)
    return Databases(
        v1=async_sessionmaker(v1_engine, expire_on_commit=False),
        v2=async_sessionmaker(v2_engine, expire_on_commit=False),
        engines=engines,
    )


async def create_tables(engine: AsyncEngine) -> None:
    """Embedded mode only: the Alembic chain is PostgreSQL's, SQLite gets the head schema from the models."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def is_empty(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        return (await session.execute(select(Playlist.id).limit(1))).first() is None


@asynccontextmanager
async def session_scope(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session
