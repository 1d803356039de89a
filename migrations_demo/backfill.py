"""Batched, resumable backfills: ``python -m migrations_demo.backfill JOB``.

Data changes do not belong in a DDL transaction (one UPDATE of a million rows holds its row locks, bloats the
table and replicates as one huge burst) nor in ``alembic upgrade --sql`` output. So a backfill is its own
command that runs between two deploys: keyset batches (``WHERE id > last ORDER BY id``, never OFFSET over the
whole table), one short transaction per batch, a cursor saved in ``backfill_progress`` in the same transaction
as the batch so a killed run resumes where it stopped, and a predicate (``pending``) that makes every batch
idempotent. Rows written after the start are covered by the column default or the sync trigger the expand
revision installed first. GitLab's "batched background migrations" are the model.
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

from migrations_demo.settings import MigrationSettings, libpq_url


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
class BackfillReport:
    job: str
    batches: int
    rows: int
    resumed_from: int | None


def run(
    conn: psycopg.Connection[Any],
    job: BackfillJob,
    *,
    batch_size: int,
    pause_s: float = 0.0,
    max_batches: int | None = None,
    show_progress: bool = False,
) -> BackfillReport:
    """One pass from the saved cursor (or the start) to the largest key present when the pass began.

    ``max_batches`` stops early, exactly as a kill between two batches would: the cursor stays saved.
    """
    if not conn.autocommit:
        raise ValueError("run a backfill on an autocommit connection: each batch is its own transaction")
    table, key = sql.Identifier(job.table), sql.Identifier(job.key)
    saved = _scalar(conn, sql.SQL("SELECT last_id FROM backfill_progress WHERE job = %s"), job.name)
    lowest = _scalar(conn, sql.SQL("SELECT min({k}) - 1 FROM {t}").format(k=key, t=table))
    upper = _scalar(conn, sql.SQL("SELECT max({k}) FROM {t}").format(k=key, t=table))
    after = int(saved) if saved is not None else int(lowest or 0)
    batches = rows = 0
    with _progress(show_progress) as bar:
        task = bar.add_task(job.name, total=max(int(upper or 0) - after, 0))
        while upper is not None and after < int(upper):
            if max_batches is not None and batches >= max_batches:
                return BackfillReport(job.name, batches, rows, int(saved) if saved is not None else None)
            with conn.transaction():
                upto = _next_boundary(conn, job, after, batch_size, int(upper))
                rows += _update_batch(conn, job, after, upto)
                conn.execute(
                    "INSERT INTO backfill_progress (job, last_id) VALUES (%s, %s) "
                    "ON CONFLICT (job) DO UPDATE SET last_id = EXCLUDED.last_id, updated_at = now()",
                    (job.name, upto),
                )
            bar.update(task, advance=upto - after)
            after, batches = upto, batches + 1
            if pause_s:
                time.sleep(pause_s)  # leave room for the live traffic between batches
    conn.execute("DELETE FROM backfill_progress WHERE job = %s", (job.name,))
    return BackfillReport(job.name, batches, rows, int(saved) if saved is not None else None)


def remaining(conn: psycopg.Connection[Any], job: BackfillJob) -> bool:
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {t} WHERE {p})").format(
        t=sql.Identifier(job.table), p=sql.SQL(job.pending)
    )
    return bool(_scalar(conn, query))


def finish(conn: psycopg.Connection[Any], job: BackfillJob, *, batch_size: int) -> BackfillReport:
    """Run until no row is pending; a stale cursor (from a run killed before a downgrade) is discarded.

    Normally the backfill command has already done the work, and one cheap check is all this costs.
    """
    if not remaining(conn, job):
        return BackfillReport(job.name, 0, 0, None)
    report = run(conn, job, batch_size=batch_size)
    if remaining(conn, job):
        conn.execute("DELETE FROM backfill_progress WHERE job = %s", (job.name,))
        report = run(conn, job, batch_size=batch_size)
    if remaining(conn, job):
        raise RuntimeError(f"backfill {job.name}: rows still pending after a full pass")
    return report


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
    parser.add_argument("--max-batches", type=int, default=None, help="stop after this many (resume later)")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be >= 1")
    if args.pause < 0 or (args.max_batches is not None and args.max_batches < 1):
        parser.error("--pause must be >= 0 and --max-batches >= 1")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.schema):
        parser.error("--schema must be a plain lower-case identifier")
    with psycopg.connect(libpq_url(settings.database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(args.schema)))
        report = run(
            conn,
            JOBS[args.job],
            batch_size=args.batch_size,
            pause_s=args.pause,
            max_batches=args.max_batches,
            show_progress=True,
        )
    resumed = f", resumed after id {report.resumed_from}" if report.resumed_from is not None else ""
    print(f"{report.job}: {report.rows} rows updated in {report.batches} batches{resumed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
