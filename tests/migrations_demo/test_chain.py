"""The Alembic chain on a populated database: every revision upgrades and downgrades with the data intact."""

from __future__ import annotations

import pytest

from migrations_demo import chain
from migrations_demo.seed import ms_column
from tests.migrations_demo.conftest import Database

pytestmark = pytest.mark.integration

ROWS = 300


def fingerprint(db: Database) -> tuple[object, ...]:
    """Every seeded value the demo owns, whatever the ms column is called at this revision."""
    with db.connect() as conn:
        ms = ms_column(conn)
        row = conn.execute(
            "SELECT count(*), md5(string_agg(concat_ws('|', id, user_id, track_id, played_at, "  # noqa: S608 - ms is one of two fixed column names
            f"{ms}), ',' ORDER BY id)) FROM plays"
        ).fetchone()
        tracks = conn.execute(
            "SELECT count(*), md5(string_agg(title, ',' ORDER BY id)) FROM tracks"
        ).fetchone()
    assert row is not None
    assert tracks is not None
    return (*row, *tracks)


def test_the_chain_goes_up_down_and_up_again_on_a_populated_database_with_the_data_intact(
    db: Database,
) -> None:
    db.seeded_at("0001", ROWS)
    before = fingerprint(db)
    db.upgrade("head")
    assert chain.current(db.url, db.schema) == chain.revisions()[-1]
    assert fingerprint(db) == before
    assert db.scalar("SELECT count(*) FROM plays WHERE public_id IS NULL OR played_ms IS NULL") == 0
    assert (
        db.scalar(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = 'plays' AND column_name = 'id'"
        )
        == "bigint"
    )
    db.downgrade("0001")
    assert chain.current(db.url, db.schema) == "0001"
    assert fingerprint(db) == before
    db.upgrade("head")
    assert fingerprint(db) == before


def test_downgrading_to_base_removes_everything_and_head_builds_it_again(db: Database) -> None:
    db.upgrade("head")
    db.downgrade("base")
    assert (
        db.scalar(
            "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
            " AND relname NOT LIKE 'alembic_version%' AND relkind IN ('r', 'S', 'i')"
        )
        == 0
    )
    db.upgrade("head")
    assert chain.current(db.url, db.schema) == chain.revisions()[-1]


def test_rows_written_between_expand_and_contract_are_covered_by_the_default_or_the_trigger(
    db: Database,
) -> None:
    """What makes the backfill's upper bound safe: new writes never need it."""
    db.seeded_at("0001", ROWS)
    db.upgrade("0002")
    with db.connect() as conn:
        conn.execute("INSERT INTO plays (user_id, track_id, ms_played) VALUES (1, 1, 10)")
    db.upgrade("0011")
    with db.connect() as conn:  # v1 still writes the old column only
        mirrored = conn.execute(
            "INSERT INTO plays (user_id, track_id, ms_played) VALUES (1, 1, 42) RETURNING played_ms"
        ).fetchone()
    db.upgrade("0013")
    with db.connect() as conn:
        new = conn.execute(
            "INSERT INTO plays (user_id, track_id, played_ms) VALUES (1, 1, 7)"
            " RETURNING id, id_new, public_id"
        ).fetchone()
    assert mirrored == (42,)
    assert new is not None
    assert new[0] == new[1]
    assert new[2] is not None


def test_a_failed_concurrent_index_build_leaves_an_invalid_index_that_the_retry_replaces(
    db: Database,
) -> None:
    db.seeded_at("0009", ROWS)
    with db.connect() as conn:  # duplicates make CREATE UNIQUE INDEX CONCURRENTLY fail half-way
        conn.execute("UPDATE plays SET public_id = (SELECT public_id FROM plays WHERE id = 1) WHERE id = 2")
    with pytest.raises(Exception, match="could not create unique index"):
        db.upgrade("0010")
    invalid = "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = 'plays_public_id_key'::regclass"
    assert db.scalar(invalid) is True  # IF NOT EXISTS alone would now skip it and keep a useless index
    with db.connect() as conn:
        conn.execute("UPDATE plays SET public_id = gen_random_uuid() WHERE id = 2")
    db.upgrade("0010")
    assert db.constraint_exists("plays_public_id_key")
    assert db.scalar(invalid) is False
