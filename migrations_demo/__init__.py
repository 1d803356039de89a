"""Q2 demo: zero-downtime schema changes on live PostgreSQL, each safe pattern next to its naive twin.

The Alembic revisions in ``migrations/versions`` are the model answer; ``ops`` and ``locks`` are the lock
policy they run under; ``backfill`` is the batched, resumable data step; ``harness`` runs any of them (or its
naive twin in ``naive``) under live load and ``audit`` checks that no acknowledged write was lost.
"""

from migrations_demo.audit import Audit, audit
from migrations_demo.catalog import MIGRATIONS, Migration
from migrations_demo.harness import RunConfig, RunResult, run_once
from migrations_demo.locks import LockPolicy, LockRetriesExhaustedError
from migrations_demo.naive import NAIVE
from migrations_demo.settings import MigrationSettings

__all__ = [
    "MIGRATIONS",
    "NAIVE",
    "Audit",
    "LockPolicy",
    "LockRetriesExhaustedError",
    "Migration",
    "MigrationSettings",
    "RunConfig",
    "RunResult",
    "audit",
    "run_once",
]
