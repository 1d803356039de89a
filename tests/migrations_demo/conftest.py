"""Fixtures for the migrations demo: a schema of the test's own on the shared PostgreSQL, and the chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

from migrations_demo import chain
from migrations_demo.seed import Seeded, seed


@dataclass(frozen=True)
class Database:
    url: str
    schema: str

    def connect(self, role: str = "test") -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.url, autocommit=True, application_name=f"{self.schema}:{role}")
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        return conn

    def upgrade(self, revision: str, **options: object) -> None:
        chain.upgrade(self.url, self.schema, revision, **options)

    def downgrade(self, revision: str, **options: object) -> None:
        chain.downgrade(self.url, self.schema, revision, **options)

    def seeded_at(self, revision: str, rows: int) -> Seeded:
        self.upgrade(revision)
        with self.connect() as conn:
            return seed(conn, rows)

    def scalar(self, query: str, *params: object) -> object:
        with self.connect() as conn:
            row = conn.execute(query, params or None).fetchone()
        return row[0] if row else None

    def constraint_exists(self, name: str) -> bool:
        return bool(
            self.scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = %s"
                " AND connamespace = current_schema()::regnamespace)",
                name,
            )
        )


@pytest.fixture
def db(database_url: str, pg_schema: str) -> Database:
    return Database(database_url, pg_schema)
