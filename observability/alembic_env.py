"""The body every package's Alembic ``env.py`` shares: one schema per package, its own version table there.

``env.py`` resolves its schema and URL (the ``schema`` and ``sqlalchemy.url`` main options first, then the
package's settings) and calls :func:`run_migrations`. Online, the schema is created if missing and set as
the session's ``search_path``, which lasts across revisions; offline (``alembic upgrade --sql``) the SQL is
printed for review and lint, never run. ``transaction_per_migration=True``: each revision commits on its
own, which keeps each lock short and lets a revision step outside the transaction (``autocommit_block``)
for ``CREATE INDEX CONCURRENTLY``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from observability.pg import checked_schema

DEFAULT_VERSION_TABLE = "alembic_version"


def run_migrations(schema: str, url: str, *, version_table: str = DEFAULT_VERSION_TABLE) -> None:
    """Run the current Alembic command in ``schema`` at ``url``, offline or online as Alembic was asked."""
    schema = checked_schema(schema)
    if context.is_offline_mode():
        context.configure(
            url=url,
            literal_binds=True,
            version_table=version_table,
            version_table_schema=schema,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.execute(f"SET search_path TO {schema}")
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
            connection.execute(text(f"SET search_path TO {schema}"))  # session-level: lasts across revisions
            connection.commit()
            context.configure(
                connection=connection,
                version_table=version_table,
                version_table_schema=schema,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()
