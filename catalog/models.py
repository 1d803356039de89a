"""The catalog's tables as SQLAlchemy 2 models (typed ``Mapped[...]``), the head of the Alembic chain.

Users own playlists (public or private) whose tracks are ordered by a ``position`` column; users save tracks
to their library; tracks belong to an album and an artist. Relationships are plain lazy ``select`` loads:
that is what ``/v1`` leans on (the N+1 of Q4), while ``/v2`` selects the columns it needs with joins and never
touches a relationship. The indexes named ``ix_*`` come from the "optimise" revision (0002); the first
revision had only primary keys, the unique handle and foreign keys, which PostgreSQL does not index for you.
Plays and the transactional outbox that carries them to other services (Q9) come from revision 0003, the
idempotency keys that make a retried POST act once (``catalog/idempotency.py``) from revision 0004.
Models carry no schema: the engine's ``search_path`` (or SQLite's single namespace) decides where they live.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite only auto-numbers an INTEGER PRIMARY KEY, so ids are BIGINT on PostgreSQL and INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)
# JSONB on PostgreSQL (binary, indexable); SQLite (embedded mode) has only JSON-as-text
Json = JSON().with_variant(JSONB(), "postgresql")
UNPUBLISHED = text("published_at IS NULL")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())


class Artist(Base):
    __tablename__ = "artists"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    bio: Mapped[str] = mapped_column(Text)  # wide, and never needed by the hot endpoints


class Album(Base):
    __tablename__ = "albums"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    artist_id: Mapped[int] = mapped_column(BigId, ForeignKey("artists.id"))
    title: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))
    cover_url: Mapped[str] = mapped_column(String(300))
    released_on: Mapped[dt.date] = mapped_column()

    artist: Mapped[Artist] = relationship()


class Track(Base):
    __tablename__ = "tracks"
    __table_args__ = (
        # keyset pagination of "new releases" (ORDER BY released_at DESC, id DESC, scanned backwards)
        Index("ix_tracks_released_at_id", "released_at", "id"),
        # an artist's tracks by popularity: the foreign key plus the sort, so no sort and no seq scan
        Index("ix_tracks_artist_popularity_id", "artist_id", "popularity", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    album_id: Mapped[int] = mapped_column(BigId, ForeignKey("albums.id"))
    artist_id: Mapped[int] = mapped_column(BigId, ForeignKey("artists.id"))
    title: Mapped[str] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer)
    explicit: Mapped[bool] = mapped_column(Boolean)
    popularity: Mapped[int] = mapped_column(Integer)
    isrc: Mapped[str] = mapped_column(String(12))
    preview_url: Mapped[str] = mapped_column(String(300))
    released_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    artist: Mapped[Artist] = relationship()
    album: Mapped[Album] = relationship()


class Playlist(Base):
    __tablename__ = "playlists"
    __table_args__ = (Index("ix_playlists_owner_id_id", "owner_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_public: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())

    owner: Mapped[User] = relationship()
    entries: Mapped[list[PlaylistTrack]] = relationship(
        order_by="PlaylistTrack.position", back_populates="playlist"
    )


class PlaylistTrack(Base):
    __tablename__ = "playlist_tracks"

    playlist_id: Mapped[int] = mapped_column(BigId, ForeignKey("playlists.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(BigId, ForeignKey("tracks.id"))
    added_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())

    playlist: Mapped[Playlist] = relationship(back_populates="entries")
    track: Mapped[Track] = relationship()


class SavedTrack(Base):
    """A track in a user's library."""

    __tablename__ = "library_tracks"
    __table_args__ = (
        # covering: every column the library page reads, in its order, so an index-only scan serves it
        Index("ix_library_tracks_user_saved_track", "user_id", "saved_at", "track_id"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    track_id: Mapped[int] = mapped_column(BigId, ForeignKey("tracks.id"), primary_key=True)
    saved_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())

    track: Mapped[Track] = relationship()


class Play(Base):
    """One listen, recorded by ``POST /v2/me/plays`` in the same transaction as its outbox row."""

    __tablename__ = "plays"
    __table_args__ = (Index("ix_plays_user_played_at", "user_id", "played_at"),)

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    track_id: Mapped[int] = mapped_column(BigId, ForeignKey("tracks.id"))
    played_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class OutboxEvent(Base):
    """An event for the relay (``catalog/relay.py``) to publish; ``published_at`` is set once it has been.

    The partial index holds only unpublished rows, so the relay's claim stays an index scan of a small set
    however many published rows the table keeps.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "topic",
            "created_at",
            postgresql_where=UNPUBLISHED,
            sqlite_where=UNPUBLISHED,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the event id consumers dedupe by
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())
    published_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class IdempotencyKey(Base):
    """A caller's ``Idempotency-Key``, committed with the effect of its request and the response to replay.

    No foreign key to ``users``: the row is a short-lived cache of an answer (24 h), and a new table without
    one makes revision 0004 lock nothing that live traffic uses. The response columns are empty only inside
    the transaction that claimed the key; a committed row always carries its answer.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)  # the purge's range scan

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)  # at most 255 characters, checked on the way in
    fingerprint: Mapped[str] = mapped_column(Text)  # sha256 hex of method, path and body
    response_status: Mapped[int | None] = mapped_column(BigInteger)  # bigint: squawk's rule, no exceptions
    response_location: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())
