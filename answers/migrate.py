"""Apply every package's Alembic chain: what ``answers migrate`` and docker-compose's one-shot ``migrate``
run.

Each package that owns tables keeps its own Alembic environment at ``<package>/migrations`` with its own
schema and ``version_table`` (API.md, "Alembic env convention"): the env reads the target schema from the main
option ``schema`` and the URL from ``sqlalchemy.url``. Here we set the URL and, only when asked (tests), a
schema; otherwise each package's env picks its own schema. A package registers by adding its name to the
tuple.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATING_PACKAGES: tuple[str, ...] = ("migrations_demo", "datastores", "catalog", "gateway")


class MigrationError(Exception):
    """A registered package has no Alembic environment, or its chain failed to apply."""


def sync_sqlalchemy_url(database_url: str) -> str:
    """``postgresql[+driver]://...`` -> ``postgresql+psycopg://...``: Alembic runs synchronously."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or not scheme.startswith("postgresql"):
        raise MigrationError(
            f"migrations need a PostgreSQL URL (postgresql://...), got {scheme or database_url!r}"
        )
    return f"postgresql+psycopg://{rest}"


def schema_for(package: str, schema_prefix: str) -> str:
    """The schema a package's chain goes into when a prefix is given: prefix + the package's last name."""
    return f"{schema_prefix}{package.rsplit('.', 1)[-1]}"


def alembic_config(package: str, database_url: str, schema: str | None = None) -> Config:
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or ()) if spec else []
    if not any((Path(location) / "migrations" / "env.py").is_file() for location in locations):
        raise MigrationError(f"package {package!r} has no Alembic environment at {package}/migrations/env.py")
    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.set_main_option("sqlalchemy.url", sync_sqlalchemy_url(database_url))
    if schema is not None:
        config.set_main_option("schema", schema)
    return config


def upgrade(package: str, database_url: str, schema: str | None = None) -> None:
    config = alembic_config(package, database_url, schema)
    try:
        command.upgrade(config, "head")
    except Exception as exc:
        raise MigrationError(f"{package}: alembic upgrade head failed: {type(exc).__name__}: {exc}") from exc


def migrate_all(
    database_url: str, packages: tuple[str, ...] | None = None, schema_prefix: str | None = None
) -> list[str]:
    """Upgrade each package to head, in order; return the packages migrated."""
    chosen = MIGRATING_PACKAGES if packages is None else packages
    for package in chosen:
        upgrade(package, database_url, schema_for(package, schema_prefix) if schema_prefix else None)
    return list(chosen)
