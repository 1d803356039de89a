"""The statements ``/v2`` runs: the columns it needs, joined in one round trip, paged by keyset.

Kept apart from the handlers so the benchmark can ``EXPLAIN (ANALYZE, BUFFERS)`` exactly what the service
runs (``offset_*`` are v1's equivalents). Keyset conditions compare rows, ``(a, b) < (:a, :b)``, which
PostgreSQL turns into one index range condition on a composite index (and SQLite >= 3.15 understands too).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, or_, select, tuple_

from catalog.models import Album, Artist, Playlist, PlaylistTrack, SavedTrack, Track, User

# one alias: the handlers only execute these statements, they never inspect their row types
Query = Select[*tuple[Any, ...]]

TRACK_COLUMNS = (
    Track.id,
    Track.title,
    Track.duration_ms,
    Track.explicit,
    Track.popularity,
    Track.released_at,
    Artist.id.label("artist_id"),
    Artist.name.label("artist_name"),
    Album.id.label("album_id"),
    Album.title.label("album_title"),
)


def _with_artist_album(query: Query) -> Query:
    return query.join(Artist, Artist.id == Track.artist_id).join(Album, Album.id == Track.album_id)


def playlist_head(playlist_id: int) -> Query:
    return (
        select(
            Playlist.id,
            Playlist.name,
            Playlist.description,
            Playlist.is_public,
            Playlist.owner_id,
            Playlist.updated_at,
            User.display_name,
        )
        .join(User, User.id == Playlist.owner_id)
        .where(Playlist.id == playlist_id)
    )


def playlist_entries(playlist_id: int) -> Query:
    query = select(PlaylistTrack.position, PlaylistTrack.added_at, *TRACK_COLUMNS).join(
        Track, Track.id == PlaylistTrack.track_id
    )
    return (
        _with_artist_album(query)
        .where(PlaylistTrack.playlist_id == playlist_id)
        .order_by(PlaylistTrack.position)
    )


def new_releases(limit: int, after: tuple[dt.datetime, int] | None) -> Query:
    query = _with_artist_album(select(*TRACK_COLUMNS))
    if after is not None:
        query = query.where(tuple_(Track.released_at, Track.id) < tuple_(*after))
    return query.order_by(Track.released_at.desc(), Track.id.desc()).limit(limit + 1)


def offset_new_releases(limit: int, offset: int) -> Query:
    return select(Track).order_by(Track.released_at.desc(), Track.id.desc()).offset(offset).limit(limit + 1)


def artist_tracks(artist_id: int, limit: int, after: tuple[int, int] | None) -> Query:
    query = _with_artist_album(select(*TRACK_COLUMNS)).where(Track.artist_id == artist_id)
    if after is not None:
        query = query.where(tuple_(Track.popularity, Track.id) < tuple_(*after))
    return query.order_by(Track.popularity.desc(), Track.id.desc()).limit(limit + 1)


def offset_artist_tracks(artist_id: int, limit: int, offset: int) -> Query:
    return (
        select(Track)
        .where(Track.artist_id == artist_id)
        .order_by(Track.popularity.desc(), Track.id.desc())
        .offset(offset)
        .limit(limit + 1)
    )


def library(user_id: int, limit: int, after: tuple[dt.datetime, int] | None) -> Query:
    joined = select(SavedTrack.saved_at, *TRACK_COLUMNS).join(Track, Track.id == SavedTrack.track_id)
    query = _with_artist_album(joined).where(SavedTrack.user_id == user_id)
    if after is not None:
        query = query.where(tuple_(SavedTrack.saved_at, SavedTrack.track_id) < tuple_(*after))
    return query.order_by(SavedTrack.saved_at.desc(), SavedTrack.track_id.desc()).limit(limit + 1)


def offset_library(user_id: int, limit: int, offset: int) -> Query:
    return (
        select(SavedTrack)
        .where(SavedTrack.user_id == user_id)
        .order_by(SavedTrack.saved_at.desc(), SavedTrack.track_id.desc())
        .offset(offset)
        .limit(limit + 1)
    )


def user_playlists(owner_id: int, viewer_id: int, limit: int, after: int | None) -> Query:
    query = select(
        Playlist.id, Playlist.name, Playlist.is_public, Playlist.owner_id, Playlist.updated_at
    ).where(Playlist.owner_id == owner_id, or_(Playlist.is_public, Playlist.owner_id == viewer_id))
    if after is not None:
        query = query.where(Playlist.id < after)
    return query.order_by(Playlist.id.desc()).limit(limit + 1)
