"""Alembic environment of the migrations demo: its own schema (``MIGRATIONS_SCHEMA``) and version table.

The schema and URL come from the main options ``schema`` and ``sqlalchemy.url``, else ``MigrationSettings``;
the rest is the project's shared runner, whose ``transaction_per_migration=True`` keeps each revision's
locks short and lets a revision step outside the transaction (``autocommit_block``) for ``CREATE INDEX
CONCURRENTLY``.
"""

from alembic import context

from migrations_demo.settings import MigrationSettings
from observability.alembic_env import run_migrations
from observability.pg import driver_url

config = context.config
settings = MigrationSettings()
schema = config.get_main_option("schema") or settings.schema_name
url = config.get_main_option("sqlalchemy.url") or driver_url(settings.database_url, "psycopg")
run_migrations(schema, url)
