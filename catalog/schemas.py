"""The JSON both API versions speak, and the one set of functions that builds it.

``/v1`` and ``/v2`` must answer with identical JSON (a test compares them), so neither builds documents
itself: both hand plain values to the builders here. Timestamps are formatted here too (UTC, ``Z``), never by
a JSON library, because stdlib ``json`` (v1) and orjson (v2) would disagree. The pydantic models document
the responses in OpenAPI and validate request bodies (``extra="forbid"``: no mass assignment).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_PAGE = 100
DEFAULT_PAGE = 50
MAX_PLAYLIST_TRACKS = 10_000


def utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def iso(value: dt.datetime) -> str:
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def micros(value: dt.datetime) -> int:
    """A timestamp as integer microseconds: exact, and trivially carried in a cursor."""
    return (utc(value) - EPOCH) // dt.timedelta(microseconds=1)


def from_micros(value: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=value)


def track_doc(
    *,
    track_id: int,
    title: str,
    duration_ms: int,
    explicit: bool,
    popularity: int,
    released_at: dt.datetime,
    artist_id: int,
    artist_name: str,
    album_id: int,
    album_title: str,
) -> dict[str, Any]:
    return {
        "id": track_id,
        "title": title,
        "duration_ms": duration_ms,
        "explicit": explicit,
        "popularity": popularity,
        "released_at": iso(released_at),
        "artist": {"id": artist_id, "name": artist_name},
        "album": {"id": album_id, "title": album_title},
    }


def playlist_doc(
    *,
    playlist_id: int,
    name: str,
    description: str,
    is_public: bool,
    owner_id: int,
    owner_name: str,
    updated_at: dt.datetime,
    entries: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": playlist_id,
        "name": name,
        "description": description,
        "is_public": is_public,
        "owner": {"id": owner_id, "display_name": owner_name},
        "updated_at": iso(updated_at),
        "track_count": len(entries),
        "tracks": entries,
    }


def entry_doc(position: int, added_at: dt.datetime, track: dict[str, Any]) -> dict[str, Any]:
    return {"position": position, "added_at": iso(added_at), "track": track}


def saved_doc(saved_at: dt.datetime, track: dict[str, Any]) -> dict[str, Any]:
    return {"saved_at": iso(saved_at), "track": track}


def playlist_summary_doc(
    playlist_id: int, name: str, is_public: bool, owner_id: int, updated_at: dt.datetime
) -> dict[str, Any]:
    return {
        "id": playlist_id,
        "name": name,
        "is_public": is_public,
        "owner_id": owner_id,
        "updated_at": iso(updated_at),
    }


def page_doc(items: list[dict[str, Any]], limit: int, next_token: str | None) -> dict[str, Any]:
    """A list page; ``next`` is an offset in v1 and an opaque cursor in v2, the only field that differs."""
    return {"items": items, "page": {"limit": limit, "next": next_token}}


# ------------------------------------------------------------------ OpenAPI models and request bodies
class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArtistRef(_Out):
    id: int
    name: str


class AlbumRef(_Out):
    id: int
    title: str


class TrackOut(_Out):
    id: int
    title: str
    duration_ms: int
    explicit: bool
    popularity: int
    released_at: str
    artist: ArtistRef
    album: AlbumRef


class OwnerOut(_Out):
    id: int
    display_name: str


class EntryOut(_Out):
    position: int
    added_at: str
    track: TrackOut


class PlaylistOut(_Out):
    id: int
    name: str
    description: str
    is_public: bool
    owner: OwnerOut
    updated_at: str
    track_count: int
    tracks: list[EntryOut]


class PageInfo(_Out):
    limit: int
    next: str | None = Field(description="v1: the next offset; v2: an opaque cursor; null on the last page")


class TrackPage(_Out):
    items: list[TrackOut]
    page: PageInfo


class SavedOut(_Out):
    saved_at: str
    track: TrackOut


class LibraryPage(_Out):
    items: list[SavedOut]
    page: PageInfo


class PlaylistSummary(_Out):
    id: int
    name: str
    is_public: bool
    owner_id: int
    updated_at: str


class PlaylistPage(_Out):
    items: list[PlaylistSummary]
    page: PageInfo


class NewPlaylist(_Out):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    is_public: bool = False


class NewEntry(_Out):
    track_id: int = Field(ge=1, le=2**63 - 1)


class EntryCreated(_Out):
    playlist_id: int
    position: int
    track_id: int
    added_at: str
