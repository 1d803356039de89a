"""Alembic environment of the datastores demo: its own schema (``DATASTORES_SCHEMA``) and version table.

The schema and URL come from the main options ``schema`` and ``sqlalchemy.url``, else ``DatastoreSettings``;
the rest is the project's shared runner.
"""

from alembic import context

from datastores.settings import DatastoreSettings
from observability.alembic_env import run_migrations
from observability.pg import driver_url

config = context.config
settings = DatastoreSettings()
schema = config.get_main_option("schema") or settings.schema_name
url = config.get_main_option("sqlalchemy.url") or driver_url(settings.database_url, "psycopg")
run_migrations(schema, url)
