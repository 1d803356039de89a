"""Batched, resumable backfills: ``python -m migrations_demo.backfill JOB``.

Data changes do not belong in a DDL transaction (one UPDATE of a million rows holds its row locks, bloats the
table and replicates as one huge burst) nor in ``alembic upgrade --sql`` output. So a backfill is its own
command that runs between two deploys: keyset batches (``WHERE id > last ORDER BY id``, never OFFSET over the
whole table), one short transaction per batch, a cursor saved in ``backfill_progress`` in the same transaction
as the batch so a killed run resumes where it stopped, and a predicate (``pending``) that makes every batch
idempotent. Rows written after the start are covered by the column default or the sync trigger the expand
revision installed first. GitLab's "batched background migrations" are the model.

Pacing (:class:`Pacing`) keeps the backfill invisible to the clients sharing the server. Flat out, a
million-row backfill writes about 350 MB of WAL (new row versions, index entries, full-page images) as fast
as the disk takes it, and every client commit waits for its own WAL flush behind those bytes: the likely
cause of the half-second stall of every client once seen mid-backfill (p99 13 ms -> 200 ms). So, as gh-ost
and GitLab do, the backfill throttles itself, with its own batch time as the gauge of how busy the server
is: after each batch it sleeps ``nice_ratio`` times as long as the batch took (gh-ost's ``--nice-ratio``:
0.5 leaves the server a third of the time to itself, however slow batches get); a batch slower than
``target_batch_ms`` shrinks the next one in proportion (its row locks are held as long as it runs), which
grows back by at most 20% a batch once the server is quiet again (GitLab's batch optimizer grows by the same
bounded step); and before each batch it waits while the clients' queries pile up (gh-ost's ``--max-load``).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from migrations_demo.settings import MigrationSettings
from observability.pg import libpq_url


@dataclass(frozen=True)
class BackfillJob:
    name: str
    table: str
    assignment: str  # the SET clause
    pending: str  # rows still to do; also makes a re-run of a batch a no-op
    key: str = "id"


JOBS: dict[str, BackfillJob] = {
    job.name: job
    for job in (
        BackfillJob("plays_public_id", "plays", "public_id = gen_random_uuid()", "public_id IS NULL"),
        BackfillJob(
            "plays_played_ms", "plays", "played_ms = ms_played", "played_ms IS NULL AND ms_played IS NOT NULL"
        ),
        BackfillJob("plays_id_new", "plays", "id_new = id", "id_new IS NULL"),
        # the two below only run when a contract step is downgraded (restoring the dropped column)
        BackfillJob(
            "plays_ms_played", "plays", "ms_played = played_ms", "ms_played IS NULL AND played_ms IS NOT NULL"
        ),
        BackfillJob("plays_id_old", "plays", "id_old = id", "id_old IS NULL"),
    )
}


@dataclass(frozen=True)
class Pacing:
    """How hard a backfill may push (defaults: the tuned ones, as in :class:`MigrationSettings`)."""

    batch_size: int = 1000  # rows in the first batch, and the most any batch may hold
    pause_s: float = 0.0  # fixed sleep after every batch
    nice_ratio: float = 0.5  # plus this many times the batch's own duration
    target_batch_ms: float | None = 50.0  # None: every batch keeps batch_size rows
    min_batch_size: int = 100
    # gh-ost's --max-load: hold the next batch while more than this many other sessions of the database are
    # running a statement (clients queueing is the first sign of a server that has no room to spare), for
    # at most max_hold_s in a row so a busy server slows the backfill down without starving it. None: never.
    max_active: int | None = 8
    max_hold_s: float = 5.0

    @classmethod
    def fixed(cls, batch_size: int, pause_s: float = 0.0) -> Pacing:
        """Flat out (or a fixed pause): every batch holds ``batch_size`` rows."""
        return cls(batch_size, pause_s=pause_s, nice_ratio=0.0, target_batch_ms=None, max_active=None)

    @classmethod
    def from_settings(cls, settings: MigrationSettings | None = None) -> Pacing:
        s = settings or MigrationSettings()
        return cls(
            s.backfill_batch_size,
            pause_s=s.backfill_pause_s,
            nice_ratio=s.backfill_nice_ratio,
            target_batch_ms=s.backfill_target_batch_ms or None,
            min_batch_size=s.backfill_min_batch_size,
            max_active=s.backfill_max_active or None,
        )

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.min_batch_size < 1:
            raise ValueError("batch sizes must be >= 1")
        if self.pause_s < 0 or self.nice_ratio < 0:
            raise ValueError("pause_s and nice_ratio must be >= 0")
        if self.target_batch_ms is not None and self.target_batch_ms <= 0:
            raise ValueError("target_batch_ms must be positive")
        if (self.max_active is not None and self.max_active < 1) or self.max_hold_s < 0:
            raise ValueError("max_active must be >= 1 and max_hold_s >= 0")

    def sleep_after(self, batch_s: float) -> float:
        return self.pause_s + self.nice_ratio * batch_s

    def next_size(self, size: int, batch_s: float) -> int:
        """Shrink in proportion to an overrun of the target; grow back by at most 20% a batch."""
        if self.target_batch_ms is None:
            return size
        floor = min(self.min_batch_size, self.batch_size)
        ratio = self.target_batch_ms / max(batch_s * 1000, 1e-3)
        return max(floor, min(self.batch_size, int(size * min(ratio, 1.2))))


@dataclass(frozen=True)
class BackfillReport:
    job: str
    batches: int
    rows: int
    resumed_from: int | None


def run(
    conn: psycopg.Connection[Any],
    job: BackfillJob,
    *,
    batch_size: int | None = None,
    pause_s: float = 0.0,
    pacing: Pacing | None = None,
    max_batches: int | None = None,
    show_progress: bool = False,
) -> BackfillReport:
    """One pass from the saved cursor (or the start) to the largest key present when the pass began.

    Give either ``batch_size`` (and ``pause_s``): fixed batches, or ``pacing``: self-throttled ones.
    ``max_batches`` stops early, exactly as a kill between two batches would: the cursor stays saved.
    """
    if not conn.autocommit:
        raise ValueError("run a backfill on an autocommit connection: each batch is its own transaction")
    if (batch_size is None) == (pacing is None):
        raise ValueError("give either batch_size or pacing")
    pace = pacing or Pacing.fixed(batch_size or 1, pause_s)
    table, key = sql.Identifier(job.table), sql.Identifier(job.key)
    saved = _scalar(conn, sql.SQL("SELECT last_id FROM backfill_progress WHERE job = %s"), job.name)
    lowest = _scalar(conn, sql.SQL("SELECT min({k}) - 1 FROM {t}").format(k=key, t=table))
    upper = _scalar(conn, sql.SQL("SELECT max({k}) FROM {t}").format(k=key, t=table))
    after = int(saved) if saved is not None else int(lowest or 0)
    batches = rows = 0
    size = pace.batch_size
    with _progress(show_progress) as bar:
        task = bar.add_task(job.name, total=max(int(upper or 0) - after, 0))
        while upper is not None and after < int(upper):
            if max_batches is not None and batches >= max_batches:
                return BackfillReport(job.name, batches, rows, int(saved) if saved is not None else None)
            _wait_while_busy(conn, pace)
            started = time.monotonic()
            # Batches commit synchronously. SET LOCAL synchronous_commit = off would be safe here (the
            # cursor commits with its batch, so a crash loses both and the rerun redoes an idempotent batch)
            # but buys the clients nothing: the WAL writer would then flush the batch's WAL in bigger chunks
            # (up to wal_writer_flush_after), and a client's commit waits for every byte of WAL before it.
            with conn.transaction():
                upto = _next_boundary(conn, job, after, size, int(upper))
                rows += _update_batch(conn, job, after, upto)
                conn.execute(
                    "INSERT INTO backfill_progress (job, last_id) VALUES (%s, %s) "
                    "ON CONFLICT (job) DO UPDATE SET last_id = EXCLUDED.last_id, updated_at = now()",
                    (job.name, upto),
                )
            took = time.monotonic() - started
            bar.update(task, advance=upto - after)
            after, batches = upto, batches + 1
            size = pace.next_size(size, took)
            if pace.sleep_after(took) > 0:
                time.sleep(pace.sleep_after(took))  # leave room for the live traffic between batches
    conn.execute("DELETE FROM backfill_progress WHERE job = %s", (job.name,))
    return BackfillReport(job.name, batches, rows, int(saved) if saved is not None else None)


def remaining(conn: psycopg.Connection[Any], job: BackfillJob) -> bool:
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {t} WHERE {p})").format(
        t=sql.Identifier(job.table), p=sql.SQL(job.pending)
    )
    return bool(_scalar(conn, query))


def finish(
    conn: psycopg.Connection[Any],
    job: BackfillJob,
    *,
    batch_size: int | None = None,
    pacing: Pacing | None = None,
) -> BackfillReport:
    """Run until no row is pending; a stale cursor (from a run killed before a downgrade) is discarded.

    Normally the backfill command has already done the work, and one cheap check is all this costs.
    """
    if not remaining(conn, job):
        return BackfillReport(job.name, 0, 0, None)
    report = run(conn, job, batch_size=batch_size, pacing=pacing)
    if remaining(conn, job):
        conn.execute("DELETE FROM backfill_progress WHERE job = %s", (job.name,))
        report = run(conn, job, batch_size=batch_size, pacing=pacing)
    if remaining(conn, job):
        raise RuntimeError(f"backfill {job.name}: rows still pending after a full pass")
    return report


ACTIVE_SESSIONS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
)


def _wait_while_busy(conn: psycopg.Connection[Any], pace: Pacing) -> None:
    if pace.max_active is None:
        return
    deadline = time.monotonic() + pace.max_hold_s
    while int(_scalar(conn, sql.SQL(ACTIVE_SESSIONS))) > pace.max_active and time.monotonic() < deadline:
        time.sleep(0.05)


def _next_boundary(conn: psycopg.Connection[Any], job: BackfillJob, after: int, size: int, upper: int) -> int:
    # keyset: the key of the size-th row after the cursor, found through the primary key index
    query = sql.SQL("SELECT {k} FROM {t} WHERE {k} > %s ORDER BY {k} OFFSET %s LIMIT 1").format(
        k=sql.Identifier(job.key), t=sql.Identifier(job.table)
    )
    found = _scalar(conn, query, after, size - 1)
    return upper if found is None else min(int(found), upper)


def _update_batch(conn: psycopg.Connection[Any], job: BackfillJob, after: int, upto: int) -> int:
    query = sql.SQL("UPDATE {t} SET {a} WHERE {k} > %s AND {k} <= %s AND ({p})").format(
        t=sql.Identifier(job.table),
        a=sql.SQL(job.assignment),
        k=sql.Identifier(job.key),
        p=sql.SQL(job.pending),
    )
    return conn.execute(query, (after, upto)).rowcount


def _scalar(conn: psycopg.Connection[Any], query: sql.Composed | sql.SQL, *params: object) -> Any:
    row = conn.execute(query, params or None).fetchone()
    return row[0] if row else None


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not show,
    )


def main(argv: list[str] | None = None) -> int:
    settings = MigrationSettings()
    parser = argparse.ArgumentParser(
        prog="python -m migrations_demo.backfill", description=__doc__.split("\n")[0]
    )
    parser.add_argument("job", choices=sorted(JOBS), help="which backfill to run")
    parser.add_argument("--schema", default=settings.schema_name, help="schema holding the tables")
    parser.add_argument(
        "--batch-size", type=int, default=settings.backfill_batch_size, help="rows per transaction"
    )
    parser.add_argument(
        "--pause", type=float, default=settings.backfill_pause_s, help="seconds between batches"
    )
    parser.add_argument(
        "--nice-ratio",
        type=float,
        default=settings.backfill_nice_ratio,
        help="also sleep this many times each batch's duration (gh-ost's --nice-ratio)",
    )
    parser.add_argument(
        "--target-batch-ms",
        type=float,
        default=settings.backfill_target_batch_ms,
        help="shrink batches that take longer than this (0: fixed batches)",
    )
    parser.add_argument(
        "--max-active",
        type=int,
        default=settings.backfill_max_active,
        help="hold batches while more sessions than this are running a statement (0: never)",
    )
    parser.add_argument("--max-batches", type=int, default=None, help="stop after this many (resume later)")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be >= 1")
    if min(args.pause, args.nice_ratio, args.target_batch_ms, args.max_active) < 0:
        parser.error("--pause, --nice-ratio, --target-batch-ms and --max-active must be >= 0")
    if args.max_batches is not None and args.max_batches < 1:
        parser.error("--max-batches must be >= 1")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.schema):
        parser.error("--schema must be a plain lower-case identifier")
    with psycopg.connect(libpq_url(settings.database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(args.schema)))
        report = run(
            conn,
            JOBS[args.job],
            pacing=Pacing(
                args.batch_size,
                pause_s=args.pause,
                nice_ratio=args.nice_ratio,
                target_batch_ms=args.target_batch_ms or None,
                min_batch_size=min(settings.backfill_min_batch_size, args.batch_size),
                max_active=args.max_active or None,
            ),
            max_batches=args.max_batches,
            show_progress=True,
        )
    resumed = f", resumed after id {report.resumed_from}" if report.resumed_from is not None else ""
    print(f"{report.job}: {report.rows} rows updated in {report.batches} batches{resumed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
