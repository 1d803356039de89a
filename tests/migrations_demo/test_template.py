"""Seed once, clone per run: every clone starts identical to its template and independent of the others."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from migrations_demo import chain
from migrations_demo.seed import seed
from migrations_demo.template import Clone, Templates, database_url_for
from observability.pg import libpq_url

pytestmark = pytest.mark.integration

ROWS = 500


def databases(database_url: str, pattern: str) -> set[str]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,)).fetchall()
    return {str(r[0]) for r in rows}


@pytest.fixture
def templates(database_url: str) -> Iterator[tuple[Templates, list[str]]]:
    seeded: list[str] = []

    def prepare(url: str, schema: str, revision: str, rows: int) -> dict[str, Any]:
        seeded.append(revision)
        chain.upgrade(url, schema, revision)
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            done = seed(conn, rows)
        return {"rows": done.sizes.rows, "checksum": done.checksum}

    made = Templates(database_url, prepare)
    try:
        yield made, seeded
    finally:
        made.close()


def plays(clone: Clone, query: str) -> Any:
    with psycopg.connect(libpq_url(clone.database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(clone.schema)))
        row = conn.execute(query).fetchone()
    return row[0] if row else None


def test_clones_of_one_template_are_seeded_once_identical_and_independent_and_all_dropped(
    templates: tuple[Templates, list[str]], database_url: str
) -> None:
    made, seeded = templates
    first, second = made.clone("0004", ROWS), made.clone("0004", ROWS)
    try:
        assert seeded == ["0004"]  # the second clone reused the template
        assert first.database != second.database
        assert (first.schema, first.checksum) == (second.schema, second.checksum)
        assert plays(first, "SELECT version_num FROM alembic_version") == "0004"
        plays(first, "DELETE FROM plays WHERE id <= 10 RETURNING 1")
        assert plays(first, "SELECT count(*) FROM plays") == ROWS - 10
        assert plays(second, "SELECT count(*) FROM plays") == ROWS
    finally:
        made.drop(first)
        made.drop(second)
    assert not databases(database_url, "mig_run_%") & {first.database, second.database}
    [template] = made.built
    made.close()
    assert not databases(database_url, template.database)


def test_a_database_url_keeps_server_user_and_options_and_swaps_the_database() -> None:
    assert (
        database_url_for("postgresql+psycopg://u@h:5433/test?sslmode=disable", "other")
        == "postgresql+psycopg://u@h:5433/other?sslmode=disable"
    )
