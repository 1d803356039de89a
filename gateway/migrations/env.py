"""Alembic environment of the gateway: its own schema (``GATEWAY_SCHEMA``) and version table.

The schema and URL come from the main options ``schema`` and ``sqlalchemy.url``, else ``GatewaySettings``
(read only when an option is missing: in services mode they require secrets a migration does not need).
"""

from alembic import context

from gateway.settings import GatewaySettings
from observability.alembic_env import run_migrations
from observability.pg import driver_url

config = context.config
schema_option = config.get_main_option("schema")
url_option = config.get_main_option("sqlalchemy.url")
settings = None if schema_option and url_option else GatewaySettings()
schema = schema_option or (settings.schema_name if settings else "gateway")
url = url_option or (driver_url(settings.database_url, "psycopg") if settings else "")
run_migrations(schema, url, version_table="alembic_version_gateway")
