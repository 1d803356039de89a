"""The PostgreSQL name and URL helpers every package with tables shares."""

from __future__ import annotations

import pytest

from observability.pg import checked_schema, driver_url, libpq_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["catalog", "t_0f3a", "_private", "a" * 63])
def test_plain_lower_case_identifiers_pass(name: str) -> None:
    assert checked_schema(name) == name


@pytest.mark.parametrize("name", ["", "Catalog", "1st", "a-b", "a;DROP SCHEMA x", '"quoted"', "a" * 64])
def test_anything_that_would_need_quoting_in_ddl_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="plain lower-case identifier"):
        checked_schema(name)


@pytest.mark.parametrize(
    ("url", "driver", "expected"),
    [
        ("postgresql://u@h:5432/db", "psycopg", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+asyncpg://u@h/db", "psycopg", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "asyncpg", "postgresql+asyncpg://u@h/db"),
        ("sqlite+aiosqlite:///x.db", "psycopg", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_driver_url_names_the_driver_and_keeps_the_rest(url: str, driver: str, expected: str) -> None:
    assert driver_url(url, driver) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_driver_url_refuses_other_databases_with_a_message(url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL must be postgresql"):
        driver_url(url, "psycopg")


def test_libpq_url_drops_the_driver() -> None:
    assert (
        libpq_url("postgresql+psycopg://u@h:5432/db?sslmode=disable")
        == "postgresql://u@h:5432/db?sslmode=disable"
    )
