"""Driving this package's Alembic chain from code: the harness, the tests and the lint all go through here.

Same convention as ``tests/support/migrations.py`` and ``answers/migrate.py`` (script location, URL and schema
as main options), plus the lock policy and a list collecting lock retries in ``Config.attributes``, where
:mod:`migrations_demo.ops` finds them, and an ``application_name`` so the lock sampler knows the session.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from psycopg import sql

from migrations_demo.locks import LockEvent, LockPolicy
from migrations_demo.ops import EVENTS_KEY, POLICY_KEY
from observability.pg import driver_url, libpq_url

PACKAGE = "migrations_demo"


def alembic_config(
    database_url: str,
    schema: str,
    *,
    policy: LockPolicy | None = None,
    events: list[LockEvent] | None = None,
    application_name: str | None = None,
) -> Config:
    url = driver_url(database_url, "psycopg")
    if application_name:
        url += ("&" if "?" in url else "?") + "application_name=" + quote(application_name)
    config = Config()
    config.set_main_option("script_location", f"{PACKAGE}:migrations")
    # ConfigParser interpolates '%': escape it so URL-encoded characters survive
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("schema", schema)
    if policy is not None:
        config.attributes[POLICY_KEY] = policy
    if events is not None:
        config.attributes[EVENTS_KEY] = events
    return config


def upgrade(database_url: str, schema: str, revision: str = "head", **options: object) -> None:
    command.upgrade(alembic_config(database_url, schema, **options), revision)  # type: ignore[arg-type]


def downgrade(database_url: str, schema: str, revision: str, **options: object) -> None:
    command.downgrade(alembic_config(database_url, schema, **options), revision)  # type: ignore[arg-type]


def current(database_url: str, schema: str) -> str | None:
    """The revision the schema is at (None before the first one)."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (f"{schema}.alembic_version",)).fetchone()
        if not exists or exists[0] is None:
            return None
        query = sql.SQL("SELECT version_num FROM {}.alembic_version").format(sql.Identifier(schema))
        row = conn.execute(query).fetchone()
    return str(row[0]) if row else None


def revisions() -> list[str]:
    """Every revision of the chain, oldest first."""
    config = Config()
    config.set_main_option("script_location", f"{PACKAGE}:migrations")
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def offline_sql(schema: str, start: str, end: str) -> str:
    """What ``alembic upgrade start:end --sql`` prints: the SQL for review and lint, nothing is run."""
    config = alembic_config("postgresql://offline/none", schema)
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, f"{start}:{end}", sql=True)
    return buffer.getvalue()
