"""Run one package's Alembic environment into a test schema.

Convention every package's ``<package>/migrations/env.py`` follows: the target schema comes from the main
option ``schema`` and the URL from ``sqlalchemy.url``; both fall back to the package's settings when unset,
and the ``version_table`` lives in that schema, so packages (and tests) never collide in one database.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from observability.pg import driver_url


def alembic_config(package: str, database_url: str, schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.set_main_option("sqlalchemy.url", driver_url(database_url, "psycopg"))
    config.set_main_option("schema", schema)
    return config


def upgrade(package: str, database_url: str, schema: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(package, database_url, schema), revision)


def downgrade(package: str, database_url: str, schema: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(package, database_url, schema), revision)
