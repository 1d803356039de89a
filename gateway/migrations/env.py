"""Alembic environment of the gateway, following the project convention (API.md, "Alembic env convention").

The schema comes from the main option ``schema`` and the URL from ``sqlalchemy.url``, both falling back to
``GatewaySettings`` (``GATEWAY_SCHEMA``, ``DATABASE_URL``). The version table has its own name and lives in
that schema, so this chain never collides with another package's.
"""

from alembic import context
from sqlalchemy import create_engine, pool, text

from gateway.settings import GatewaySettings, checked_schema, driver_url

VERSION_TABLE = "alembic_version_gateway"

config = context.config
schema_option = config.get_main_option("schema")
url_option = config.get_main_option("sqlalchemy.url")
settings = None if schema_option and url_option else GatewaySettings()
schema = checked_schema(schema_option or (settings.schema_name if settings else "gateway"))
url = url_option or (driver_url(settings.database_url, "psycopg") if settings else "")


def run_offline() -> None:
    """``alembic upgrade --sql``: the SQL for review, never run here."""
    context.configure(
        url=url,
        literal_binds=True,
        version_table=VERSION_TABLE,
        version_table_schema=schema,
        transaction_per_migration=True,
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
        context.configure(
            connection=connection,
            version_table=VERSION_TABLE,
            version_table_schema=schema,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
