"""The integrity audit after every run: a migration that "worked" but lost a write did not work.

Three checks: every write the client saw acknowledged is in the table with its values (an insert's row, an
update's value: a lost write is one that is not); the checksum of the seeded rows' untouched columns is the
one taken before the run; the row count is the seed plus the acknowledged inserts, plus at most the inserts
whose outcome the client never learned (timed out: they may or may not have committed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from migrations_demo.load import Record
from migrations_demo.seed import Seeded, checksum, ms_column


@dataclass(frozen=True)
class Audit:
    lost_writes: int
    checksum_ok: bool
    counts_ok: bool
    rows_found: int
    rows_expected: tuple[int, int]  # (min, max): seed + acknowledged, + inserts in doubt
    examples: tuple[str, ...]  # a few lost writes, for the report

    @property
    def ok(self) -> bool:
        return self.lost_writes == 0 and self.checksum_ok and self.counts_ok


def expected_rows(records: Sequence[Record]) -> list[tuple[int, int | None, int | None, list[int]]]:
    """(id, user_id, track_id, allowed ms values) for every acknowledged write.

    An insert must be there exactly. A seeded row's value must be one the clients wrote to it: usually the one
    acknowledged update; when several updates hit the same row, any of them (their order is the server's).
    """
    rows: list[tuple[int, int | None, int | None, list[int]]] = []
    updates: dict[int, list[Record]] = defaultdict(list)
    for r in records:
        if r.op == "insert" and r.ok and r.inserted_id is not None:
            user, track, ms = r.args
            rows.append((r.inserted_id, user, track, [ms]))
        elif r.op == "update":
            updates[r.args[0]].append(r)
    for key, attempts in updates.items():
        if any(a.ok for a in attempts):
            rows.append((key, None, None, sorted({a.args[1] for a in attempts})))
    return rows


def audit(conn: psycopg.Connection[Any], seeded: Seeded, records: Sequence[Record]) -> Audit:
    expected = expected_rows(records)
    acked = sum(1 for r in records if r.op == "insert" and r.ok)
    in_doubt = sum(1 for r in records if r.op == "insert" and not r.ok)
    conn.execute(
        "CREATE TEMP TABLE audit_expected (id bigint, user_id bigint, track_id bigint, allowed bigint[])"
    )
    try:
        with conn.cursor().copy("COPY audit_expected FROM STDIN") as copy:
            for row in expected:
                copy.write_row(row)
        lost = conn.execute(
            sql.SQL(
                "SELECT e.id FROM audit_expected e LEFT JOIN plays p ON p.id = e.id"
                " WHERE p.id IS NULL"
                " OR (e.user_id IS NOT NULL AND (p.user_id <> e.user_id OR p.track_id <> e.track_id))"
                " OR p.{ms} IS NULL OR NOT (p.{ms} = ANY (e.allowed))"
                " ORDER BY e.id"
            ).format(ms=sql.Identifier(ms_column(conn)))
        ).fetchall()
    finally:
        conn.execute("DROP TABLE IF EXISTS audit_expected")
    count_row = conn.execute("SELECT count(*) FROM plays").fetchone()
    found = int(count_row[0]) if count_row else 0
    low, high = seeded.sizes.rows + acked, seeded.sizes.rows + acked + in_doubt
    return Audit(
        lost_writes=len(lost),
        checksum_ok=checksum(conn, seeded.sizes.rows) == seeded.checksum,
        counts_ok=low <= found <= high,
        rows_found=found,
        rows_expected=(low, high),
        examples=tuple(f"plays.id={row[0]}" for row in lost[:5]),
    )
