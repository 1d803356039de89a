"""What revisions call instead of bare ``op.execute``: every DDL step under the lock policy, retried safely.

- :func:`run_ddl` runs statements inside the revision's transaction, in a SAVEPOINT, after ``SET LOCAL
  lock_timeout/statement_timeout``. A lock timeout rolls back to the savepoint (which also releases any lock
  taken inside it), pauses with jitter and tries again: the schema is never left half-changed.
- :func:`run_autocommit` / :func:`create_index_concurrently` run each statement outside the revision's
  transaction (Alembic's ``autocommit_block``): ``CREATE INDEX CONCURRENTLY`` requires it, and a ``VALIDATE
  CONSTRAINT`` committed on its own never holds another step's lock during its scan. A failed concurrent build
  leaves an INVALID index behind, which is dropped before the next attempt (PostgreSQL docs, "Building Indexes
  Concurrently").
- :func:`ensure_backfilled` finishes a batched backfill, in batches, outside the DDL transaction (GitLab's
  ``ensure_batched_background_migration_is_finished``); normally the backfill command already did the work.

In offline mode (``alembic upgrade --sql``) the same helpers emit the SET statements and DDL for review and
lint; they never query the catalog there, and data changes appear only as a comment naming the command.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context, op
from sqlalchemy import text

from migrations_demo import backfill
from migrations_demo.locks import LockEvent, LockPolicy, lock_retrying

POLICY_KEY = "lock_policy"
EVENTS_KEY = "lock_events"


def current_policy() -> LockPolicy:
    """The policy the caller put in ``Config.attributes`` (harness, tests), else the one from settings."""
    policy = context.config.attributes.get(POLICY_KEY)
    return policy if isinstance(policy, LockPolicy) else LockPolicy.from_settings()


def _record(event: LockEvent) -> None:
    events = context.config.attributes.get(EVENTS_KEY)
    if isinstance(events, list):
        events.append(event)


def run_ddl(*statements: str, non_blocking: bool = False) -> None:
    """Run ``statements`` atomically in the revision's transaction, under the lock policy, with retries."""
    policy = current_policy()
    setup = policy.set_statements(non_blocking=non_blocking, local=True)
    if context.is_offline_mode():
        for statement in (*setup, *statements):
            op.execute(statement)
        return
    connection = op.get_bind()
    for attempt in lock_retrying(policy, _describe(statements), _record):
        with attempt, connection.begin_nested():
            for statement in (*setup, *statements):
                connection.execute(text(statement))


def run_autocommit(*statements: str) -> None:
    """Commit what came before, then run each non-blocking statement as its own transaction."""
    policy = current_policy()
    with op.get_context().autocommit_block():
        for statement in policy.set_statements(non_blocking=True, local=False):
            op.execute(statement)
        for statement in statements:
            if context.is_offline_mode():
                op.execute(statement)
                continue
            for attempt in lock_retrying(policy, _describe([statement]), _record):
                with attempt:
                    op.get_bind().execute(text(statement))
        _reset_timeouts()


def create_index_concurrently(name: str, table: str, columns: Sequence[str], *, unique: bool = False) -> None:
    """``CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS``, first dropping an INVALID leftover of a failure.

    ``IF NOT EXISTS`` alone is a trap: it happily skips over an INVALID index, which enforces nothing and is
    never used by the planner. So online we look at ``pg_index.indisvalid`` before every attempt.
    """
    policy = current_policy()
    kind = "UNIQUE INDEX" if unique else "INDEX"
    create = f"CREATE {kind} CONCURRENTLY IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"
    drop = f"DROP INDEX CONCURRENTLY IF EXISTS {name}"
    with op.get_context().autocommit_block():
        for statement in policy.set_statements(non_blocking=True, local=False):
            op.execute(statement)
        if context.is_offline_mode():
            op.execute(f"-- online, an INVALID {name} left by a failed attempt is dropped first")
            op.execute(create)
        else:
            for attempt in lock_retrying(policy, create, _record):
                with attempt:
                    if _index_is_invalid(name):
                        op.get_bind().execute(text(drop))
                    op.get_bind().execute(text(create))
        _reset_timeouts()


def drop_index_concurrently(name: str) -> None:
    run_autocommit(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def ensure_backfilled(job_name: str) -> None:
    """Make sure a backfill has finished before a step that relies on it (e.g. VALIDATE a NOT NULL check)."""
    job = backfill.JOBS[job_name]
    if context.is_offline_mode():
        op.execute(
            f"-- requires: python -m migrations_demo.backfill {job.name} (batched, outside any transaction)"
        )
        return
    with op.get_context().autocommit_block():
        raw = op.get_bind().connection.dbapi_connection
        # paced like the backfill command: this may run on a live table too
        backfill.finish(raw, job, pacing=backfill.Pacing.from_settings())  # type: ignore[arg-type]


def _index_is_invalid(name: str) -> bool:
    row = (
        op.get_bind()
        .execute(
            text(
                "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace"
            ),
            {"name": name},
        )
        .first()
    )
    return bool(row and row[0])


def _reset_timeouts() -> None:
    # autocommit settings are session-level: put the connection back as we found it for the next revision
    op.execute("RESET lock_timeout")
    op.execute("RESET statement_timeout")


def _describe(statements: Sequence[str]) -> str:
    first = statements[0].strip().splitlines()
    lines = [line for line in first if not line.lstrip().startswith("--")]
    return (lines[0] if lines else first[0])[:120]
