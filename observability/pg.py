"""PostgreSQL names and URLs, shared by every package that owns tables (catalog, gateway, datastores, the
migrations demo).

Each package keeps its tables in its own schema, and one ``DATABASE_URL`` is rewritten for each driver that
reads it: SQLAlchemy wants ``postgresql+psycopg://`` or ``postgresql+asyncpg://``, libpq (psycopg,
``pg_dump``) plain ``postgresql://``.
"""

from __future__ import annotations

import re

# a schema name ends up in DDL text and in ``SET search_path``, where it cannot be a bound parameter
SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def checked_schema(schema: str) -> str:
    """``schema`` if it is a plain lower-case identifier (at most 63 characters), else ``ValueError``."""
    if not SCHEMA_RE.fullmatch(schema):
        raise ValueError(f"schema must be a plain lower-case identifier, got {schema!r}")
    return schema


def driver_url(database_url: str, driver: str) -> str:
    """``postgresql[+x]://rest`` -> ``postgresql+<driver>://rest``; SQLite URLs pass unchanged."""
    scheme, sep, rest = database_url.partition("://")
    if scheme.startswith("sqlite"):
        return database_url
    if not sep or not scheme.startswith("postgres"):
        raise ValueError(f"DATABASE_URL must be postgresql://... or sqlite+aiosqlite://..., got {scheme!r}")
    return f"postgresql+{driver}://{rest}"


def libpq_url(database_url: str) -> str:
    """``postgresql+driver://...`` -> ``postgresql://...`` for psycopg and libpq tools."""
    return "postgresql://" + database_url.partition("://")[2]
