"""The integrity audit catches what a migration must never do: lose an acknowledged write, touch old data."""

from __future__ import annotations

import asyncio

import pytest

from migrations_demo.audit import audit
from migrations_demo.load import LoadGenerator, Record, create_pool
from migrations_demo.seed import Seeded
from migrations_demo.workload import RequestMix
from tests.migrations_demo.conftest import Database

pytestmark = pytest.mark.integration


async def load_for(db: Database, seeded: Seeded, seconds: float) -> list[Record]:
    pool = await create_pool(db.url, db.schema, f"{db.schema}:load", size=4)
    try:
        loop = asyncio.get_running_loop()
        gen = LoadGenerator(
            pool, RequestMix(seeded.sizes, seed=1), rate=100, origin=loop.time(), versions=("v1",)
        )
        task = asyncio.create_task(gen.run())
        await asyncio.sleep(seconds)
        gen.stop()
        await task
    finally:
        await pool.close()
    return gen.records


@pytest.fixture
async def loaded(db: Database) -> tuple[Seeded, list[Record]]:
    seeded = await asyncio.to_thread(db.seeded_at, "0004", 500)
    return seeded, await load_for(db, seeded, 1.0)


async def test_a_clean_run_passes_the_audit(db: Database, loaded: tuple[Seeded, list[Record]]) -> None:
    seeded, records = loaded
    assert sum(r.ok for r in records) > 50
    with db.connect() as conn:
        result = audit(conn, seeded, records)
    assert result.ok, result


async def test_the_audit_catches_a_lost_insert(db: Database, loaded: tuple[Seeded, list[Record]]) -> None:
    seeded, records = loaded
    victim = next(r.inserted_id for r in records if r.op == "insert" and r.ok)
    with db.connect() as conn:
        conn.execute("DELETE FROM plays WHERE id = %s", (victim,))
        result = audit(conn, seeded, records)
    assert result.lost_writes == 1
    assert result.examples == (f"plays.id={victim}",)
    assert not result.counts_ok


async def test_the_audit_catches_a_lost_update(db: Database, loaded: tuple[Seeded, list[Record]]) -> None:
    seeded, records = loaded
    key = next(r.args[0] for r in records if r.op == "update" and r.ok)
    with db.connect() as conn:
        conn.execute(
            "UPDATE plays SET ms_played = -1 WHERE id = %s", (key,)
        )  # as if the update never happened
        result = audit(conn, seeded, records)
    assert result.lost_writes == 1
    assert result.counts_ok


async def test_the_audit_catches_a_change_to_columns_nothing_may_touch(
    db: Database, loaded: tuple[Seeded, list[Record]]
) -> None:
    seeded, records = loaded
    with db.connect() as conn:
        conn.execute("UPDATE plays SET user_id = user_id + 1 WHERE id = 7")
        result = audit(conn, seeded, records)
    assert not result.checksum_ok
    assert result.lost_writes == 0
