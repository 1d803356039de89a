"""Alembic environment of the migrations demo, following the project convention.

The schema comes from the main option ``schema`` and the URL from ``sqlalchemy.url``, both falling back to
``MigrationSettings`` (``MIGRATIONS_SCHEMA``, ``DATABASE_URL``); the ``version_table`` lives in that schema,
so this chain never collides with another package's. ``transaction_per_migration=True``: every revision
commits on its own, which keeps each lock short and lets a revision step outside the transaction
(``autocommit_block``) for ``CREATE INDEX CONCURRENTLY``.
"""

import re

from alembic import context
from sqlalchemy import create_engine, pool, text

from migrations_demo.settings import MigrationSettings, psycopg_sqlalchemy_url

config = context.config
settings = MigrationSettings()
schema = config.get_main_option("schema") or settings.schema_name
url = config.get_main_option("sqlalchemy.url") or psycopg_sqlalchemy_url(settings.database_url)
if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
    raise ValueError(f"schema must be a plain lower-case identifier, got {schema!r}")


def run_offline() -> None:
    """``alembic upgrade --sql``: the SQL for review and lint, never run here."""
    context.configure(
        url=url, literal_binds=True, version_table_schema=schema, transaction_per_migration=True
    )
    with context.begin_transaction():
        context.execute(f"SET search_path TO {schema}")
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        connection.execute(text(f"SET search_path TO {schema}"))  # session-level: lasts across revisions
        connection.commit()
        context.configure(connection=connection, version_table_schema=schema, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
