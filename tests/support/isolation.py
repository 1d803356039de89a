"""Per-test isolation on the shared servers: a PostgreSQL schema and a Redis key prefix of the test's own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
import redis
from psycopg import sql


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def temporary_schema(database_url: str) -> Iterator[str]:
    """Create a fresh schema, yield its name, drop it with everything in it."""
    schema = unique_name("t")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def with_search_path(database_url: str, schema: str) -> str:
    """The same URL with ``search_path`` set, so unqualified names land in ``schema``."""
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def temporary_key_prefix(redis_url: str) -> Iterator[str]:
    """Yield a unique key prefix (hash-tagged: one cluster slot per test); delete its keys afterwards."""
    prefix = f"{{{unique_name('t')}}}:"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(redis_url)
        try:
            keys = list(client.scan_iter(match=f"{_glob_escape(prefix)}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
