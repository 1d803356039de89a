"""Revision 0003 (plays + outbox) is safe DDL by squawk's rules and reverses cleanly."""

from __future__ import annotations

import io

import psycopg
import pytest
from alembic import command

from migrations_demo.lint import squawk
from tests.support.migrations import alembic_config, downgrade, upgrade

NEW_TABLES = {"plays", "outbox"}


def _tables(database_url: str, schema: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
    return {row[0] for row in rows}


@pytest.mark.unit
def test_the_outbox_revision_passes_squawk_without_exceptions() -> None:
    """Timeouts set, tables and indexes created together, nothing rewritten: squawk finds nothing."""
    config = alembic_config("catalog", "postgresql://offline/none", "catalog")
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, "0002:0003", sql=True)
    sql = buffer.getvalue()
    assert "CREATE TABLE outbox" in sql
    assert squawk(sql, "catalog_0003") == []


@pytest.mark.integration
def test_the_outbox_revision_downgrades_and_upgrades_again(database_url: str, pg_schema: str) -> None:
    upgrade("catalog", database_url, pg_schema, "0003")
    assert _tables(database_url, pg_schema) >= NEW_TABLES
    downgrade("catalog", database_url, pg_schema, "0002")
    assert not NEW_TABLES & _tables(database_url, pg_schema)
    upgrade("catalog", database_url, pg_schema, "0003")
    assert _tables(database_url, pg_schema) >= NEW_TABLES
