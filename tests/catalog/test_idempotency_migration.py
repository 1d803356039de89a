"""Revision 0004 (idempotency keys) is safe DDL by squawk's rules and reverses cleanly."""

from __future__ import annotations

import io

import psycopg
import pytest
from alembic import command

from migrations_demo.lint import squawk
from tests.support.migrations import alembic_config, downgrade, upgrade


def _has_keys_table(database_url: str, schema: str) -> bool:
    query = "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'idempotency_keys'"
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, (schema,)).fetchone() is not None


@pytest.mark.unit
def test_the_idempotency_keys_revision_passes_squawk_without_exceptions() -> None:
    """Timeouts set, the table and its index created together, no foreign key, nothing rewritten."""
    config = alembic_config("catalog", "postgresql://offline/none", "catalog")
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, "0003:0004", sql=True)
    sql = buffer.getvalue()
    assert "CREATE TABLE idempotency_keys" in sql
    assert "lock_timeout" in sql
    assert squawk(sql, "catalog_0004") == []


@pytest.mark.integration
def test_the_idempotency_keys_revision_downgrades_and_upgrades_again(
    database_url: str, pg_schema: str
) -> None:
    upgrade("catalog", database_url, pg_schema, "0004")
    assert _has_keys_table(database_url, pg_schema)
    downgrade("catalog", database_url, pg_schema, "0003")
    assert not _has_keys_table(database_url, pg_schema)
    upgrade("catalog", database_url, pg_schema, "0004")
    assert _has_keys_table(database_url, pg_schema)
