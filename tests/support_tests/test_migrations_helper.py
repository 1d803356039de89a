"""The Alembic helper applies a package's chain into the test's own schema, version table included."""

from __future__ import annotations

import psycopg
import pytest

from tests.support import migrations

pytestmark = pytest.mark.integration


def _tables(database_url: str, schema: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
    return {name for (name,) in rows}


def test_upgrade_and_downgrade_stay_inside_the_test_schema(database_url: str, pg_schema: str) -> None:
    migrations.upgrade("tests.support.sample_app", database_url, pg_schema)
    assert _tables(database_url, pg_schema) == {"widgets", "alembic_version"}
    assert "widgets" not in _tables(database_url, "public")
    migrations.downgrade("tests.support.sample_app", database_url, pg_schema)
    assert _tables(database_url, pg_schema) == {"alembic_version"}
