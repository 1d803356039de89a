"""``EXPLAIN (ANALYZE, BUFFERS)`` of the key queries, before ("v1 at revision 0001") and after ("v2 at 0002").

The statements are the ones the service runs (``queries.py``), rendered for PostgreSQL with their parameters
inlined. Each plan is saved as text beside ``results/catalog.json``; its ``Execution Time`` goes into the
results, so the answer can say what the index (or the keyset) did to one query, apart from everything else.
``offset_after`` runs v1's ``OFFSET`` query on the optimised schema: the index alone does not save a deep
``OFFSET``, because the database still walks every row before the page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from catalog import queries
from catalog.models import PlaylistTrack
from catalog.queries import Query
from observability.pg import libpq_url

_EXECUTION = re.compile(r"Execution Time: ([0-9.]+) ms")


@dataclass(frozen=True)
class Subjects:
    """The rows the plans are about: a hero playlist, a deep offset and its cursor key, an artist, a user."""

    playlist_id: int
    offset: int
    cursor_key: tuple[dt.datetime, int]
    artist_id: int
    user_id: int


def render(statement: Query) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call] # untyped upstream
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def before_statements(s: Subjects) -> dict[str, Query]:
    """What v1 runs (its first query of each kind; the N+1 follow-ups are single-row primary key lookups)."""
    entries = (
        select(PlaylistTrack)
        .where(PlaylistTrack.playlist_id == s.playlist_id)
        .order_by(PlaylistTrack.position)
    )
    return {
        "playlist": entries,
        "deep_page": queries.offset_new_releases(50, s.offset),
        "artist_tracks": queries.offset_artist_tracks(s.artist_id, 50, 0),
        "library": queries.offset_library(s.user_id, 50, 0),
    }


def after_statements(s: Subjects) -> dict[str, Query]:
    return {
        "playlist": queries.playlist_entries(s.playlist_id),
        "deep_page": queries.new_releases(50, s.cursor_key),
        "artist_tracks": queries.artist_tracks(s.artist_id, 50, None),
        "library": queries.library(s.user_id, 50, None),
        "deep_page_offset": queries.offset_new_releases(50, s.offset),
    }


def explain(database_url: str, schema: str, statements: dict[str, Query]) -> dict[str, tuple[str, float]]:
    """name -> (plan text, execution ms)."""
    plans: dict[str, tuple[str, float]] = {}
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for name, statement in statements.items():
            text = render(statement)
            rows = conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ") + sql.SQL(text)).fetchall()
            plan = "\n".join(str(r[0]) for r in rows)
            match = _EXECUTION.search(plan)
            plans[name] = (f"{text}\n\n{plan}\n", float(match.group(1)) if match else float("nan"))
    return plans


def save(plans: dict[str, tuple[str, float]], directory: Path, stage: str) -> dict[str, float]:
    directory.mkdir(parents=True, exist_ok=True)
    for name, (text, _ms) in plans.items():
        (directory / f"{name}_{stage}.txt").write_text(text, encoding="utf-8")
    return {name: round(ms, 3) for name, (_text, ms) in plans.items()}
