"""The lock policy every DDL step runs under: a short ``lock_timeout``, a ``statement_timeout``, retries.

Why: PostgreSQL grants table locks in queue order. A DDL statement that waits for an ``ACCESS EXCLUSIVE`` lock
(say, behind a long-running report) makes every later query on that table wait behind *it*, even plain
SELECTs: one blocked ALTER stalls the whole service. ``lock_timeout`` bounds that wait, so the DDL gives up,
the queue drains, and we try again after a jittered, growing pause, a bounded number of times. This is
GitLab's ``with_lock_retries`` (GitLab docs, "Migration style guide: Usage with transactional_migration") with
AWS's "full jitter" backoff (Brooker, "Exponential Backoff And Jitter", 2015), built on tenacity.

Pure logic: the SET statements, the retry schedule and the error classification. ``ops`` applies them inside
Alembic revisions; the harness's naive counterparts deliberately do not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from migrations_demo.settings import MigrationSettings

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE raised when lock_timeout expires


@dataclass(frozen=True)
class LockPolicy:
    lock_timeout_ms: int = 1000
    statement_timeout_ms: int = 15_000
    long_statement_timeout_ms: int = 3_600_000
    # CREATE INDEX CONCURRENTLY and VALIDATE take SHARE UPDATE EXCLUSIVE, which no application query conflicts
    # with, not even while it is still queued: their lock waits stall nobody, so they may wait much longer.
    # (CONCURRENTLY also waits for every older transaction in the database, not only those on this table.)
    non_blocking_lock_timeout_ms: int = 600_000
    attempts: int = 10
    retry_base_s: float = 0.25
    retry_max_s: float = 5.0

    def __post_init__(self) -> None:
        timeouts = (
            self.lock_timeout_ms,
            self.statement_timeout_ms,
            self.long_statement_timeout_ms,
            self.non_blocking_lock_timeout_ms,
        )
        if min(timeouts) <= 0:
            raise ValueError("timeouts must be positive: 0 would mean 'wait forever', the thing we avoid")
        if self.attempts < 1:
            raise ValueError("attempts must be >= 1")

    @classmethod
    def from_settings(cls, settings: MigrationSettings | None = None) -> LockPolicy:
        s = settings or MigrationSettings()
        return cls(
            lock_timeout_ms=s.lock_timeout_ms,
            statement_timeout_ms=s.statement_timeout_ms,
            long_statement_timeout_ms=s.long_statement_timeout_ms,
            non_blocking_lock_timeout_ms=s.non_blocking_lock_timeout_ms,
            attempts=s.lock_attempts,
            retry_base_s=s.lock_retry_base_s,
            retry_max_s=s.lock_retry_max_s,
        )

    def set_statements(self, *, non_blocking: bool, local: bool) -> list[str]:
        """``SET [LOCAL] lock_timeout`` and ``statement_timeout`` for one step.

        A step whose lock blocks others (``ACCESS EXCLUSIVE``, ``SHARE ROW EXCLUSIVE``...) gets the short lock
        timeout and a short statement timeout; a non-blocking one (``CONCURRENTLY``, ``VALIDATE``) gets long
        ones. ``LOCAL`` inside a transaction (undone with its savepoint); session-level outside one.
        """
        scope = "SET LOCAL" if local else "SET"
        if non_blocking:
            lock_ms, statement_ms = self.non_blocking_lock_timeout_ms, self.long_statement_timeout_ms
        else:
            lock_ms, statement_ms = self.lock_timeout_ms, self.statement_timeout_ms
        return [f"{scope} lock_timeout = '{lock_ms}ms'", f"{scope} statement_timeout = '{statement_ms}ms'"]


@dataclass(frozen=True)
class LockEvent:
    """One failed attempt: which step could not get its lock, and how long we pause before the next try."""

    step: str
    attempt: int
    pause_s: float


class LockRetriesExhaustedError(RuntimeError):
    """Every attempt timed out waiting for a lock; the schema is as it was before the step."""


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a psycopg/asyncpg error, also when wrapped by SQLAlchemy (``.orig``) or chained."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for attr in ("sqlstate", "pgcode"):
            code = getattr(current, attr, None)
            if isinstance(code, str):
                return code
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def is_lock_timeout(exc: BaseException) -> bool:
    return sqlstate(exc) == LOCK_NOT_AVAILABLE


def lock_retrying(
    policy: LockPolicy, step: str, on_retry: Callable[[LockEvent], None] | None = None
) -> Retrying:
    """Retry only lock timeouts, with full-jitter exponential pauses; anything else fails at once."""

    def before_sleep(state: RetryCallState) -> None:
        pause = state.next_action.sleep if state.next_action else 0.0
        if on_retry is not None:
            on_retry(LockEvent(step=step, attempt=state.attempt_number, pause_s=pause))

    def give_up(state: RetryCallState) -> None:
        raise LockRetriesExhaustedError(
            f"{step!r}: no lock after {state.attempt_number} attempts of {policy.lock_timeout_ms} ms each; "
            "something holds a conflicting lock (see pg_locks / pg_blocking_pids) — try again later"
        ) from (state.outcome.exception() if state.outcome else None)

    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_random_exponential(multiplier=policy.retry_base_s, max=policy.retry_max_s),
        retry=retry_if_exception(is_lock_timeout),
        before_sleep=before_sleep,
        retry_error_callback=give_up,
    )
