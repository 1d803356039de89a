"""A deterministic catalog generator: same arguments, same rows, bulk-loaded with ``COPY``.

``python -m catalog.seed --tracks 1000000 --playlists 100000`` fills the schema of ``CATALOG_SCHEMA`` (already
migrated). Sizes follow what a streaming catalogue looks like: playlist lengths are Pareto-distributed between
10 and 5,000 (most playlists are short, a few are huge), every ``hero_every``-th playlist is public with
exactly ``hero_size`` tracks (the benchmark's "1,000-track playlist"), every ``hero_every``-th user has a
library of ``hero_size // 2`` tracks, and track choice is skewed towards popular tracks. Rows stream out of
``rows.py`` in chunks; PostgreSQL gets them through ``COPY ... FROM STDIN`` (psycopg), the fastest way in,
with foreign-key triggers skipped for the load when the role may (the generator keeps every reference valid by
construction); SQLite (embedded mode) gets plain inserts. Identity sequences are moved past the loaded ids.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.models import Base
from catalog.rows import Chunk, SeedSpec, TableRows, expected_rows, table_rows
from catalog.settings import CatalogSettings
from observability.pg import checked_schema, libpq_url

IDENTITY_TABLES = ("users", "artists", "albums", "tracks", "playlists")
PG_EPOCH_US = 946_684_800_000_000  # PostgreSQL's binary timestamps count from 2000-01-01
PG_EPOCH_DAYS = 10_957
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_BINARY = {"i8": ">i8", "i4": ">i4", "bool": ">?", "ts": ">i8", "date": ">i4"}
_SIZES = {"i8": 8, "i4": 4, "bool": 1, "ts": 8, "date": 4}
Tick = Callable[[str, int], None]

__all__ = ["SeedSpec", "progress_ticker", "seed_postgres", "seed_sqlalchemy"]


def text_chunk(table: TableRows, chunk: Chunk) -> str:
    """Text-format ``COPY`` lines, built column by column (numpy does the timestamp formatting)."""
    columns: list[list[str]] = []
    for name, kind in zip(table.columns, table.kinds, strict=True):
        values = chunk[name]
        if kind == "str":
            columns.append(list(values))
        elif kind == "ts":
            columns.append(
                np.datetime_as_string(np.asarray(values).astype("datetime64[us]"), unit="us").tolist()
            )
        elif kind == "date":
            columns.append(np.datetime_as_string(np.asarray(values).astype("datetime64[D]")).tolist())
        elif kind == "bool":
            columns.append(np.where(np.asarray(values), "t", "f").tolist())
        else:
            columns.append(list(map(str, np.asarray(values).tolist())))
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def binary_chunk(table: TableRows, chunk: Chunk) -> bytes:
    """Binary-format ``COPY`` tuples for all-fixed-width tables: one numpy record per row, no Python loop."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, kind in enumerate(table.kinds):
        fields += [(f"len{i}", ">i4"), (f"val{i}", _BINARY[kind])]
    first = np.asarray(chunk[table.columns[0]])
    records = np.empty(len(first), dtype=np.dtype(fields))
    records["count"] = len(table.columns)
    for i, (name, kind) in enumerate(zip(table.columns, table.kinds, strict=True)):
        values = np.asarray(chunk[name])
        if kind == "ts":
            values = values - PG_EPOCH_US
        elif kind == "date":
            values = values - PG_EPOCH_DAYS
        records[f"len{i}"] = _SIZES[kind]
        records[f"val{i}"] = values
    return records.tobytes()


def seed_postgres(database_url: str, schema: str, spec: SeedSpec, tick: Tick | None = None) -> dict[str, int]:
    """COPY every table into ``schema`` (migrated, empty); return the row counts."""
    schema = checked_schema(schema)
    counts: dict[str, int] = {}
    with psycopg.connect(libpq_url(database_url), autocommit=False) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("SET TIME ZONE 'UTC'")  # the text timestamps we write carry no offset
        _skip_fk_triggers(conn)
        for table in table_rows(spec):
            binary = "str" not in table.kinds
            statement = sql.SQL("COPY {} ({}) FROM STDIN" + (" (FORMAT binary)" if binary else "")).format(
                sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.columns))
            )
            with conn.cursor() as cur, cur.copy(statement) as copy:
                if binary:
                    copy.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)  # signature, flags, extension length
                for chunk in table.chunks:
                    copy.write(binary_chunk(table, chunk) if binary else text_chunk(table, chunk))
                    rows = len(chunk[table.columns[0]])
                    counts[table.name] = counts.get(table.name, 0) + rows
                    if tick:
                        tick(table.name, rows)
                if binary:
                    copy.write(b"\xff\xff")  # trailer
        for name in IDENTITY_TABLES:
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT coalesce(max(id), 1) FROM {}))"
                ).format(sql.Literal(name), sql.Identifier(name))
            )
        conn.commit()
    return counts


def _skip_fk_triggers(conn: psycopg.Connection[Any]) -> None:
    """``session_replication_role = replica`` skips FK checks for this load (superusers only; else check)."""
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if row and row[0]:
        conn.execute("SET LOCAL session_replication_role = replica")


async def seed_sqlalchemy(sessions: async_sessionmaker[AsyncSession], spec: SeedSpec) -> dict[str, int]:
    """Plain inserts through SQLAlchemy: embedded mode (SQLite) and small data only."""
    counts: dict[str, int] = {}
    tables: dict[str, Table] = {t.name: t for t in Base.metadata.sorted_tables}
    async with sessions() as session, session.begin():
        for table in table_rows(spec):
            for chunk in table.chunks:
                rows = python_rows(table, chunk)
                await session.execute(insert(tables[table.name]), rows)
                counts[table.name] = counts.get(table.name, 0) + len(rows)
    return counts


def python_rows(table: TableRows, chunk: Chunk) -> list[dict[str, Any]]:
    columns: list[list[Any]] = []
    for name, kind in zip(table.columns, table.kinds, strict=True):
        values = chunk[name]
        if kind == "ts":
            columns.append([EPOCH + dt.timedelta(microseconds=v) for v in np.asarray(values).tolist()])
        elif kind == "date":
            columns.append([dt.date.fromordinal(EPOCH_ORDINAL + v) for v in np.asarray(values).tolist()])
        else:
            columns.append(values if isinstance(values, list) else np.asarray(values).tolist())
    return [dict(zip(table.columns, row, strict=True)) for row in zip(*columns, strict=True)]


def progress_ticker(progress: Progress, spec: SeedSpec) -> Tick:
    """A ``tick`` that advances one rich progress bar per table."""
    tasks = {name: progress.add_task(name, total=total) for name, total in expected_rows(spec).items()}

    def tick(name: str, rows: int) -> None:
        progress.advance(tasks[name], rows)

    return tick


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalog.seed", description=__doc__.splitlines()[0])
    defaults = SeedSpec()
    for spec_field in fields(SeedSpec):
        flag = "--" + spec_field.name.replace("_", "-")
        parser.add_argument(flag, type=int, default=getattr(defaults, spec_field.name))
    parser.add_argument("--schema", default=None, help="default: CATALOG_SCHEMA or 'catalog'")
    args = parser.parse_args(argv)
    spec = SeedSpec(**{f.name: getattr(args, f.name) for f in fields(SeedSpec)})
    settings = CatalogSettings()
    schema = args.schema or settings.schema_name
    columns = (TextColumn("{task.description:>16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as progress:
        tick = progress_ticker(progress, spec)
        counts = seed_postgres(settings.database_url, schema, spec, tick)
    print(", ".join(f"{name}: {count:,}" for name, count in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
