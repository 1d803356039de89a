"""Every catalog instance purges expired ``Idempotency-Key`` rows; a failing purge never hurts it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from catalog.db import create_databases
from catalog.housekeeping import purge_idempotency_keys, run_purges
from catalog.idempotency import KEY_TTL
from catalog.rows import SeedSpec
from catalog.service import create_app
from catalog.tokens import SigningKey
from tests.catalog.support import Seeded, fetch, serve, settings_for
from tests.support.isolation import temporary_schema
from tests.support.migrations import upgrade
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

EMPTY = SeedSpec(tracks=0, playlists=0, users=0)  # the schema only: these tests need no catalogue rows


@pytest.fixture
def schema(database_url: str) -> Iterator[Seeded]:
    with temporary_schema(database_url) as name:
        upgrade("catalog", database_url, name)
        yield Seeded(database_url, name, EMPTY)


def _add_keys(seeded: Seeded, **ages: dt.timedelta) -> None:
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(seeded.database_url) as conn:
        conn.execute(f"SET search_path TO {seeded.schema}")
        for key, age in ages.items():
            conn.execute(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, response_status, created_at) "
                "VALUES (1, %s, 'f', 201, %s)",
                (key, now - age),
            )


def _keys(seeded: Seeded) -> set[str]:
    return {row[0] for row in fetch(seeded, "SELECT key FROM idempotency_keys")}


async def test_a_purge_deletes_only_keys_older_than_their_ttl(
    schema: Seeded, signing_key: SigningKey
) -> None:
    _add_keys(schema, fresh=dt.timedelta(hours=1), old=KEY_TTL + dt.timedelta(minutes=1), older=KEY_TTL * 3)
    databases = create_databases(settings_for(schema, signing_key))
    try:
        assert await purge_idempotency_keys(databases.v2) == 2
        assert await purge_idempotency_keys(databases.v2) == 0
    finally:
        await databases.dispose()
    assert _keys(schema) == {"fresh"}


async def test_a_running_catalog_purges_on_its_own(schema: Seeded, signing_key: SigningKey) -> None:
    _add_keys(schema, fresh=dt.timedelta(0), old=KEY_TTL * 2)
    app = create_app(settings_for(schema, signing_key, idempotency_purge_interval_s=0.05))
    async with serve(app):
        for _ in range(200):
            if _keys(schema) == {"fresh"}:
                break
            await asyncio.sleep(0.05)
    assert _keys(schema) == {"fresh"}


async def test_a_purge_that_fails_is_retried_and_never_ends_the_loop() -> None:
    """A database that refuses connections: the loop logs, waits and tries again; only cancelling ends it."""
    engine = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    task = asyncio.create_task(run_purges(async_sessionmaker(engine), interval_s=0.01))
    try:
        await asyncio.sleep(0.3)
        assert not task.done(), task.exception() if task.done() else None
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await engine.dispose()
