"""Alembic environment of the catalog: its own schema (``CATALOG_SCHEMA``) and version table.

The schema and URL come from the main options ``schema`` and ``sqlalchemy.url``, else ``CatalogSettings``;
the rest is the project's shared runner. ``transaction_per_migration=True`` there is what lets the
"optimise" revision build its indexes ``CONCURRENTLY`` without blocking writes on a live table.
"""

from alembic import context

from catalog.settings import CatalogSettings
from observability.alembic_env import run_migrations
from observability.pg import driver_url

config = context.config
schema = config.get_main_option("schema") or CatalogSettings().schema_name
url = config.get_main_option("sqlalchemy.url") or driver_url(CatalogSettings().database_url, "psycopg")
run_migrations(schema, url, version_table="alembic_version_catalog")
