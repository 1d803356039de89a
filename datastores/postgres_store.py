"""The workload on PostgreSQL: normalised tables, a weekly-partitioned ``plays`` log, SQL computed at read.

Nothing is precomputed: "top tracks this week in a country" is a join and a ``GROUP BY`` over one week's
partition (pruning skips the others), "users who played both" an ``INTERSECT`` of two index-only scans. The
follower invariant is one transaction: the follower row and the counter change together or not at all, and the
unique key makes a second concurrent follow by the same user a no-op (PostgreSQL docs, "INSERT ... ON
CONFLICT", and chapter 13, "Concurrency Control").
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from datastores.model import (
    RECENT_LIMIT,
    TOP_LIMIT,
    FollowerState,
    Play,
    RecentPlay,
    TrackCount,
    UnknownPlaylistError,
    truncate_ms,
    week_bounds,
)
from observability.pg import checked_schema, driver_url

# the user's country is one fact in one place: a user who moved is updated once, and every later query
# counts all their plays under the new country (a join at read time); Redis instead freezes it into each play
UPSERT_USER = (
    "INSERT INTO users (user_id, country) VALUES (:user_id, :country) ON CONFLICT (user_id)"
    " DO UPDATE SET country = excluded.country WHERE users.country <> excluded.country"
)
RECORD_PLAY = text(
    # one round trip, one transaction: the user row (written only when new or moved) and the play
    "WITH upsert_user AS ("
    " INSERT INTO users (user_id, country) VALUES (:user_id, :country) ON CONFLICT (user_id)"
    " DO UPDATE SET country = excluded.country WHERE users.country <> excluded.country)"
    " INSERT INTO plays (user_id, track_id, played_at) VALUES (:user_id, :track_id, :played_at)"
)
RECENT_PLAYS = text(
    "SELECT track_id, played_at FROM plays WHERE user_id = :user_id ORDER BY played_at DESC LIMIT :limit"
)
TOP_TRACKS = text(
    "SELECT p.track_id, count(*) AS plays"
    " FROM plays p JOIN users u ON u.user_id = p.user_id"
    " WHERE u.country = :country AND p.played_at >= :start AND p.played_at < :end"
    " GROUP BY p.track_id ORDER BY plays DESC, p.track_id LIMIT :limit"
)
PLAYED_BOTH = text(
    "SELECT user_id FROM plays WHERE track_id = :x"
    " INTERSECT SELECT user_id FROM plays WHERE track_id = :y ORDER BY user_id"
)
FOLLOWER_STATE = text(
    "SELECT p.follower_count, array_remove(array_agg(f.user_id), NULL)"
    " FROM playlists p LEFT JOIN playlist_followers f ON f.playlist_id = p.playlist_id"
    " WHERE p.playlist_id = :p GROUP BY p.follower_count"
)
LISTENING_BYTES = text(
    # every byte the listening history occupies: users and each partition of plays, with indexes and TOAST
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c"
    " WHERE c.relkind = 'r' AND (c.oid = to_regclass(CAST(:schema AS text) || '.users')"
    " OR c.oid IN (SELECT inhrelid FROM pg_inherits"
    " WHERE inhparent = to_regclass(CAST(:schema AS text) || '.plays')))"
)


def alembic_config(database_url: str, schema: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "datastores:migrations")
    config.set_main_option("sqlalchemy.url", driver_url(database_url, "psycopg"))
    config.set_main_option("schema", checked_schema(schema))
    return config


async def migrate(database_url: str, schema: str) -> None:
    """Apply this package's Alembic chain into ``schema`` (Alembic is synchronous: run it off the loop)."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url, schema), "head")


def make_engine(database_url: str, schema: str, pool_size: int = 5) -> AsyncEngine:
    """An asyncpg engine whose connections resolve unqualified names in ``schema``."""
    return create_async_engine(
        driver_url(database_url, "asyncpg"),
        pool_size=pool_size,
        max_overflow=0,
        connect_args={"server_settings": {"search_path": checked_schema(schema)}},
    )


class PostgresStore:
    name = "postgres"

    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self.engine = engine
        self.schema = checked_schema(schema)

    async def ensure_partitions(self, first: dt.date, last: dt.date) -> list[str]:
        """Create the weekly partitions of ``plays`` for the weeks from ``first`` to ``last`` (Mondays)."""
        created = []
        week = first
        async with self.engine.begin() as conn:
            while week <= last:
                start, end = week_bounds(week)
                name = f"plays_{week:%Y_%m_%d}"
                await conn.execute(
                    text(
                        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF plays"
                        f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                    )
                )
                created.append(name)
                week += dt.timedelta(weeks=1)
        return created

    async def record_play(self, play: Play) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(RECORD_PLAY, _row(play))

    async def record_plays(self, plays: Sequence[Play]) -> None:
        """Users first (their latest country, as ``record_play`` leaves it), then plays through ``COPY``."""
        country = {play.user_id: play.country for play in plays}
        async with self.engine.begin() as conn:
            if country:
                await conn.execute(
                    text(UPSERT_USER), [{"user_id": u, "country": c} for u, c in sorted(country.items())]
                )
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection  # asyncpg's own connection: COPY is not in SQLAlchemy
            await driver.copy_records_to_table(
                "plays",
                schema_name=self.schema,
                columns=["user_id", "track_id", "played_at"],
                records=[(p.user_id, p.track_id, p.played_at) for p in plays],
            )

    async def recent_plays(self, user_id: int, limit: int = RECENT_LIMIT) -> list[RecentPlay]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(RECENT_PLAYS, {"user_id": user_id, "limit": limit})
            return [RecentPlay(int(track), truncate_ms(at)) for track, at in rows]

    async def top_tracks_week_country(
        self, country: str, week: dt.date, limit: int = TOP_LIMIT
    ) -> list[TrackCount]:
        start, end = week_bounds(week)
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                TOP_TRACKS, {"country": country, "start": start, "end": end, "limit": limit}
            )
            return [TrackCount(int(track), int(plays)) for track, plays in rows]

    async def users_played_both(self, track_x: int, track_y: int) -> list[int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(PLAYED_BOTH, {"x": track_x, "y": track_y})
            return [int(user) for (user,) in rows]

    async def create_playlist(self, playlist_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO playlists (playlist_id) VALUES (:p) ON CONFLICT DO NOTHING"),
                {"p": playlist_id},
            )

    async def follow(self, playlist_id: int, user_id: int) -> bool:
        return await self._change(
            "INSERT INTO playlist_followers (playlist_id, user_id) VALUES (:p, :u)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            +1,
            playlist_id,
            user_id,
        )

    async def unfollow(self, playlist_id: int, user_id: int) -> bool:
        return await self._change(
            "DELETE FROM playlist_followers WHERE playlist_id = :p AND user_id = :u RETURNING 1",
            -1,
            playlist_id,
            user_id,
        )

    async def _change(self, statement: str, delta: int, playlist_id: int, user_id: int) -> bool:
        """The follower row and the counter in one transaction; the row statement decides if anything changed.

        Under READ COMMITTED this is race-free: a concurrent duplicate INSERT waits on the unique key and then
        does nothing, a concurrent DELETE of the same row finds nothing, and the counter ``UPDATE`` takes the
        row lock, so increments never overwrite each other.
        """
        try:
            async with self.engine.begin() as conn:
                changed = (await conn.execute(text(statement), {"p": playlist_id, "u": user_id})).first()
                if changed is None:
                    return False
                updated = await conn.execute(
                    text(
                        "UPDATE playlists SET follower_count = follower_count + :d"
                        " WHERE playlist_id = :p RETURNING 1"
                    ),
                    {"d": delta, "p": playlist_id},
                )
                if updated.first() is None:
                    raise UnknownPlaylistError(playlist_id)
                return True
        except IntegrityError as exc:  # the follower row's foreign key: no such playlist
            raise UnknownPlaylistError(playlist_id) from exc

    async def follower_state(self, playlist_id: int) -> FollowerState:
        async with self.engine.connect() as conn:
            row = (await conn.execute(FOLLOWER_STATE, {"p": playlist_id})).first()
        if row is None:
            raise UnknownPlaylistError(playlist_id)
        return FollowerState(int(row[0]), frozenset(int(u) for u in row[1]))

    async def vacuum_analyze(self) -> None:
        """Fresh statistics and a visibility map (index-only scans need it), as autovacuum leaves them."""
        async with self.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM (ANALYZE) users, plays"))

    async def listening_bytes(self) -> int:
        """Bytes on disk of the listening history (tables, indexes, TOAST, free-space and visibility maps)."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(LISTENING_BYTES, {"schema": self.schema})).scalar_one())


def _row(play: Play) -> dict[str, object]:
    return {
        "user_id": play.user_id,
        "track_id": play.track_id,
        "played_at": play.played_at,
        "country": play.country,
    }
