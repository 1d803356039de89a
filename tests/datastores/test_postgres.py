"""PostgreSQL-specific claims: weekly partitions prune, the default partition catches the rest, sizes are
measured, the Alembic chain goes down and up, and a user's country is one fact read at query time."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from sqlalchemy import text

from datastores import Play, PostgresStore, TrackCount, Workload
from datastores.postgres_store import TOP_TRACKS, alembic_config
from tests.support import migrations

pytestmark = pytest.mark.integration


async def test_a_one_week_query_reads_only_that_weeks_partition(
    postgres_store: PostgresStore, workload: Workload
) -> None:
    await postgres_store.record_plays(workload.plays)
    week = workload.spec.first_week + dt.timedelta(weeks=1)
    start = dt.datetime.combine(week, dt.time(), tzinfo=dt.UTC)
    params = {"country": "US", "start": start, "end": start + dt.timedelta(weeks=1), "limit": 10}
    async with postgres_store.engine.connect() as conn:
        plan = "\n".join(row[0] for row in await conn.execute(text(f"EXPLAIN {TOP_TRACKS.text}"), params))
    assert f"plays_{week:%Y_%m_%d}" in plan
    others = [workload.spec.first_week, workload.spec.last_week]
    assert not [name for name in (f"plays_{w:%Y_%m_%d}" for w in others) if name in plan], plan
    assert "plays_default" not in plan


async def test_a_play_outside_the_prepared_weeks_lands_in_the_default_partition_and_still_counts(
    postgres_store: PostgresStore,
) -> None:
    at = dt.datetime(2031, 6, 4, 12, tzinfo=dt.UTC)
    await postgres_store.record_play(Play(1, 5, at, "SE"))
    async with postgres_store.engine.connect() as conn:
        stray = await conn.scalar(text("SELECT count(*) FROM plays_default"))
    assert stray == 1
    assert await postgres_store.top_tracks_week_country("SE", dt.date(2031, 6, 2)) == [TrackCount(5, 1)]


async def test_the_listening_history_has_a_measured_size_that_grows_with_plays(
    postgres_store: PostgresStore, workload: Workload
) -> None:
    empty = await postgres_store.listening_bytes()
    await postgres_store.record_plays(workload.plays)
    await postgres_store.vacuum_analyze()
    assert await postgres_store.listening_bytes() > empty + 100 * len(workload.plays) // 2


async def test_a_user_who_moves_is_counted_under_the_new_country_for_every_play(
    postgres_store: PostgresStore,
) -> None:
    """Normalised: the country is stored once; the join at read time re-attributes the whole history."""
    at = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    await postgres_store.record_play(Play(1, 5, at, "SE"))
    await postgres_store.record_play(Play(1, 6, at + dt.timedelta(hours=1), "NO"))
    assert await postgres_store.top_tracks_week_country("SE", dt.date(2024, 1, 1)) == []
    assert await postgres_store.top_tracks_week_country("NO", dt.date(2024, 1, 1)) == [
        TrackCount(5, 1),
        TrackCount(6, 1),
    ]


def test_the_alembic_chain_downgrades_to_nothing_and_upgrades_again(
    database_url: str, pg_schema: str
) -> None:
    migrations.upgrade("datastores", database_url, pg_schema)
    migrations.downgrade("datastores", database_url, pg_schema)
    with psycopg.connect(database_url) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'alembic_version'",
            (pg_schema,),
        ).fetchall()
    assert tables == []
    migrations.upgrade("datastores", database_url, pg_schema)
    assert alembic_config(database_url, pg_schema).get_main_option("schema") == pg_schema
