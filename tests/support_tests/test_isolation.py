"""Shared servers are safe to share: each test's schema and key prefix are its own and vanish afterwards."""

from __future__ import annotations

import psycopg
import pytest
import redis

from tests.support import isolation

pytestmark = pytest.mark.integration


def test_two_tests_writing_the_same_table_name_do_not_see_each_other(database_url: str) -> None:
    """Two schemas hold a table of the same name with different rows; each sees only its own, and both go."""
    with (
        isolation.temporary_schema(database_url) as first,
        isolation.temporary_schema(database_url) as second,
    ):
        assert first != second
        for schema, rows in ((first, 1), (second, 3)):
            with psycopg.connect(isolation.with_search_path(database_url, schema), autocommit=True) as conn:
                conn.execute("CREATE TABLE plays (id int)")
                conn.execute("INSERT INTO plays SELECT generate_series(1, %s)", (rows,))
        for schema, rows in ((first, 1), (second, 3)):
            with psycopg.connect(isolation.with_search_path(database_url, schema)) as conn:
                assert conn.execute("SELECT count(*) FROM plays").fetchone() == (rows,)
    with psycopg.connect(database_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name IN (%s, %s)", (first, second)
        ).fetchone()
    assert left == (0,)


def test_a_key_prefix_is_unique_and_its_keys_are_deleted_afterwards(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        with isolation.temporary_key_prefix(redis_url) as a, isolation.temporary_key_prefix(redis_url) as b:
            assert a != b
            assert a.startswith("{"), "a hash tag keeps a test's keys in one cluster slot"
            assert "}" in a
            client.set(f"{a}counter", 1)
            client.set(f"{b}counter", 2)
            assert client.get(f"{a}counter") == b"1"
            assert client.get(f"{b}counter") == b"2"
        assert client.exists(f"{a}counter", f"{b}counter") == 0
    finally:
        client.close()


def test_the_pg_schema_fixture_gives_an_existing_empty_schema(database_url: str, pg_schema: str) -> None:
    with psycopg.connect(database_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (pg_schema,)
        ).fetchone()
    assert tables == (0,)
