"""Deterministic seed data, generated inside PostgreSQL (``generate_series``), and the checksum of what no
migration and no request may change.

The same ``rows`` always gives the same rows, whatever revision the schema is at: the seed looks at which
columns exist (``ms_played`` or ``played_ms``, ``public_id``) and fills them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from migrations_demo.workload import MAX_MS_PLAYED, Sizes

SEED_SQL = (
    (
        "INSERT INTO tracks (id, title, artist, duration_ms)"
        " SELECT g, 'track ' || g, 'artist ' || (g %% 997), 120000 + (g * 7919) %% 240000"
        " FROM generate_series(1, %(tracks)s::bigint) g"
    ),
    "SELECT setval(pg_get_serial_sequence('tracks', 'id'), %(tracks)s)",
    (
        "INSERT INTO playlists (id, owner_id, name)"
        " SELECT g, 1 + (g * 31) %% %(users)s, 'playlist ' || g"
        " FROM generate_series(1, %(playlists)s::bigint) g"
    ),
    "SELECT setval(pg_get_serial_sequence('playlists', 'id'), %(playlists)s)",
    (
        "INSERT INTO playlist_tracks (playlist_id, position, track_id)"
        " SELECT 1 + (g - 1) / 20, (g - 1) %% 20, 1 + (g * 104729) %% %(tracks)s"
        " FROM generate_series(1, %(playlists)s::bigint * 20) g"
    ),
)

PLAYS_SQL = (
    "INSERT INTO plays (id, user_id, track_id, played_at, {ms}{public_id_col})"
    " SELECT g, 1 + (g * 7919) %% %(users)s, 1 + (g * 104729) %% %(tracks)s,"
    " timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', (g * 2654435761) %% %(max_ms)s"
    "{public_id_val}"
    " FROM generate_series(1, %(rows)s::bigint) g"
)

# The columns nothing may change: not the migrations (they add, rename or retype other columns; id keeps
# its values as bigint) and not the requests (updates touch only the ms column, inserts add rows past `rows`).
CHECKSUM_SQL = (
    "SELECT count(*), coalesce(sum(hashtextextended("
    "concat_ws('|', id, user_id, track_id, extract(epoch FROM played_at)), 0)::numeric), 0)"
    " FROM plays WHERE id <= %(rows)s"
)


@dataclass(frozen=True)
class Seeded:
    sizes: Sizes
    checksum: str


def columns(conn: psycopg.Connection[Any], table: str = "plays") -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    ).fetchall()
    return {str(r[0]) for r in rows}


def ms_column(conn: psycopg.Connection[Any]) -> str:
    """``played_ms`` once the rename has expanded, else ``ms_played``."""
    return "played_ms" if "played_ms" in columns(conn) else "ms_played"


def seed(conn: psycopg.Connection[Any], rows: int) -> Seeded:
    """Fill an empty schema (at any revision of the chain) with ``rows`` plays; return their checksum."""
    if rows < 1:
        raise ValueError("rows must be >= 1")
    sizes = Sizes(rows)
    params = {
        "rows": rows,
        "tracks": sizes.tracks,
        "users": sizes.users,
        "playlists": sizes.playlists,
        "max_ms": MAX_MS_PLAYED + 1,
    }
    has_public_id = "public_id" in columns(conn)
    plays = PLAYS_SQL.format(
        ms=ms_column(conn),
        public_id_col=", public_id" if has_public_id else "",
        public_id_val=", md5('play' || g)::uuid" if has_public_id else "",
    )
    with conn.transaction():
        for statement in (*SEED_SQL, plays):
            conn.execute(statement, params)
        conn.execute("SELECT setval('plays_id_seq', %(rows)s)", params)
    for table in ("tracks", "playlists", "playlist_tracks", "plays"):
        conn.execute(f"VACUUM (ANALYZE) {table}")  # no autovacuum storm in the middle of the measurement
    return Seeded(sizes, checksum(conn, rows))


def checksum(conn: psycopg.Connection[Any], rows: int) -> str:
    row = conn.execute(CHECKSUM_SQL, {"rows": rows}).fetchone()
    if row is None:
        raise RuntimeError("checksum query returned nothing")
    return f"{row[0]}:{row[1]}"
