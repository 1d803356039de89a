"""The Alembic chain owns the schema: head matches the models, 0001 lacks the indexes that 0002 adds."""

from __future__ import annotations

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from psycopg import sql
from sqlalchemy import create_engine, text

from catalog.models import Base
from observability.pg import driver_url
from tests.support.migrations import downgrade, upgrade

pytestmark = pytest.mark.integration

OPTIMISE_INDEXES = {
    "ix_tracks_released_at_id",
    "ix_tracks_artist_popularity_id",
    "ix_playlists_owner_id_id",
    "ix_library_tracks_user_saved_track",
}


def _indexes(database_url: str, schema: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)).fetchall()
    return {r[0] for r in rows}


def test_the_migrated_schema_is_exactly_what_the_models_describe(database_url: str, pg_schema: str) -> None:
    upgrade("catalog", database_url, pg_schema)
    engine = create_engine(driver_url(database_url, "psycopg"))
    try:
        with engine.connect() as conn:
            conn.execute(text(f"SET search_path TO {pg_schema}"))
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(context, Base.metadata) if "alembic_version" not in str(d)]
    finally:
        engine.dispose()
    assert diff == []


def test_optimise_adds_the_indexes_and_its_downgrade_removes_them(database_url: str, pg_schema: str) -> None:
    upgrade("catalog", database_url, pg_schema, "0001")
    assert not OPTIMISE_INDEXES & _indexes(database_url, pg_schema), "the first revision has only keys"
    upgrade("catalog", database_url, pg_schema, "0002")
    assert _indexes(database_url, pg_schema) >= OPTIMISE_INDEXES
    downgrade("catalog", database_url, pg_schema, "0001")
    assert not OPTIMISE_INDEXES & _indexes(database_url, pg_schema)


def test_the_version_table_is_the_catalogs_own_inside_its_schema(database_url: str, pg_schema: str) -> None:
    upgrade("catalog", database_url, pg_schema)
    with psycopg.connect(database_url) as conn:
        query = sql.SQL("SELECT version_num FROM {}.alembic_version_catalog").format(
            sql.Identifier(pg_schema)
        )
        row = conn.execute(query).fetchone()
    assert row == ("0004",)
