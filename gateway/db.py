"""The async engine: PostgreSQL through asyncpg (schema on the ``search_path``), or SQLite in embedded mode.

PostgreSQL gets its tables from the Alembic chain in ``gateway/migrations``; SQLite (``make demo`` without
PostgreSQL) gets them from the metadata, because the chain is PostgreSQL's. Nothing connects before first use.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from gateway.models import Base
from gateway.settings import GatewaySettings
from observability.pg import driver_url


def create_engine(settings: GatewaySettings) -> AsyncEngine:
    url = driver_url(settings.database_url, "asyncpg")
    if settings.is_sqlite:
        return create_async_engine(url)
    return create_async_engine(
        url,
        connect_args={"server_settings": {"search_path": settings.schema_name}},
        pool_size=5,
        max_overflow=0,
        pool_timeout=5.0,
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
