"""Settings for the migrations demo, from the environment (pydantic-settings).

``DATABASE_URL`` is shared with every package; the rest are ``MIGRATIONS_*`` knobs for the lock policy that
every DDL step runs under and for the batched backfill. Defaults are the production-sane ones: wait at most
one second for a lock, give up after a bounded number of jittered retries, backfill in small batches.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.pg import libpq_url

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_SCHEMA = "migrations_demo"


class MigrationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MIGRATIONS_", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    schema_name: str = Field(default=DEFAULT_SCHEMA, validation_alias="MIGRATIONS_SCHEMA")
    # How long one DDL step may wait for its lock. While it waits, every later query on the table queues
    # behind it (the lock queue), so this is also the longest stall the migration may cause.
    lock_timeout_ms: int = Field(default=1000, gt=0)
    # Bound on a metadata-only DDL step once it holds its lock; long non-blocking steps (CREATE INDEX
    # CONCURRENTLY, VALIDATE CONSTRAINT) get long_statement_timeout_ms instead.
    statement_timeout_ms: int = Field(default=15_000, gt=0)
    long_statement_timeout_ms: int = Field(default=3_600_000, gt=0)
    # ... and may wait much longer for their lock: no application query conflicts with (or queues behind)
    # their SHARE UPDATE EXCLUSIVE, so their waiting stalls nobody
    non_blocking_lock_timeout_ms: int = Field(default=600_000, gt=0)
    # GitLab's with_lock_retries: try again after a jittered, growing pause, a bounded number of times.
    lock_attempts: int = Field(default=10, ge=1)
    lock_retry_base_s: float = Field(default=0.25, gt=0)
    lock_retry_max_s: float = Field(default=5.0, gt=0)
    # The backfill paces itself (see migrations_demo.backfill.Pacing): at most backfill_batch_size rows a
    # batch, shrunk when a batch takes longer than backfill_target_batch_ms (0: never), and after each batch
    # a sleep of backfill_pause_s plus backfill_nice_ratio times the batch's duration; it holds a batch while
    # more than backfill_max_active other sessions are running a query (0: never).
    backfill_batch_size: int = Field(default=1000, ge=1)
    backfill_min_batch_size: int = Field(default=100, ge=1)
    backfill_pause_s: float = Field(default=0.0, ge=0)
    backfill_nice_ratio: float = Field(default=0.5, ge=0)
    backfill_target_batch_ms: float = Field(default=50.0, ge=0)
    backfill_max_active: int = Field(default=8, ge=0)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgresql+", "postgres://")):
            raise ValueError("the migrations demo needs a PostgreSQL DATABASE_URL (postgresql://...)")
        return value


def postgres_problem(database_url: str) -> str | None:
    """None when PostgreSQL answers at ``database_url``; else a message saying how to get one."""
    import psycopg  # noqa: PLC0415 - settings stay importable without a driver

    try:
        with psycopg.connect(libpq_url(database_url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        return (
            f"The Q2 demo needs PostgreSQL 14+ and none answered at {database_url}: set DATABASE_URL, "
            f"or run `docker compose up -d postgres`. ({str(exc).strip()})"
        )
    return None
