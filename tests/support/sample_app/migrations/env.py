"""A minimal Alembic environment following the project convention; it exists to test the migration helper."""

from alembic import context
from sqlalchemy import create_engine, text

config = context.config
schema = config.get_main_option("schema") or "sample_app"
url = config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("sqlalchemy.url is required")

engine = create_engine(url)
with engine.connect() as connection:
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    connection.execute(text(f'SET search_path TO "{schema}"'))
    connection.commit()
    context.configure(connection=connection, version_table_schema=schema, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
