"""The Alembic chain owns the PostgreSQL schema: head matches the models, and it downgrades cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from gateway.models import Base
from observability.pg import driver_url
from tests.support.migrations import downgrade, upgrade

pytestmark = pytest.mark.integration


def test_the_migrated_schema_is_exactly_what_the_models_describe(database_url: str, pg_schema: str) -> None:
    upgrade("gateway", database_url, pg_schema)
    engine = create_engine(driver_url(database_url, "psycopg"))
    try:
        with engine.connect() as conn:
            conn.execute(text(f"SET search_path TO {pg_schema}"))
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(context, Base.metadata) if "alembic_version" not in str(d)]
            tables = set(inspect(conn).get_table_names(schema=pg_schema))
    finally:
        engine.dispose()
    assert diff == []
    assert tables == {"users", "refresh_tokens", "alembic_version_gateway"}


def test_the_chain_downgrades_to_an_empty_schema(database_url: str, pg_schema: str) -> None:
    upgrade("gateway", database_url, pg_schema)
    downgrade("gateway", database_url, pg_schema)
    engine = create_engine(driver_url(database_url, "psycopg"))
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names(schema=pg_schema))
    finally:
        engine.dispose()
    assert tables <= {"alembic_version_gateway"}
