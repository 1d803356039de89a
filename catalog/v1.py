"""``/v1``: the catalog API as it is commonly first written. Correct, secure, and slow, on purpose.

Every handler walks ORM relationships the way the models invite (``playlist.entries``, ``entry.track``,
``track.artist``, ``track.album``): each access the session has not loaded yet is one more query, so a
1,000-track playlist costs about a thousand round trips (the N+1 query problem). Lists page with ``OFFSET``,
which makes the database produce and discard every row before the page. Whole rows are loaded (artist bios,
preview URLs) to use a few columns; responses go through stdlib ``json``; nothing is cached; and the schema
is revision 0001, without the indexes those queries want. The handlers run their ORM code synchronously
inside ``AsyncSession.run_sync`` so lazy loads work under asyncio exactly as they would in a sync app.
Access rules are the same as v2's: a private playlist is the owner's alone, and 404 for everyone else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from catalog import schemas
from catalog.deps import ArtistId, Offset, PageSize, PlaylistId, PrincipalDep, UserId, V1Session
from catalog.errors import not_found
from catalog.models import Artist, Playlist, SavedTrack, Track, User
from catalog.schemas import DEFAULT_PAGE

router = APIRouter(prefix="/v1", tags=["v1: as first written"])


def _track(track: Track) -> dict[str, Any]:
    return schemas.track_doc(
        track_id=track.id,
        title=track.title,
        duration_ms=track.duration_ms,
        explicit=track.explicit,
        popularity=track.popularity,
        released_at=track.released_at,
        artist_id=track.artist.id,  # lazy load (unless this artist is already in the session)
        artist_name=track.artist.name,
        album_id=track.album.id,  # lazy load
        album_title=track.album.title,
    )


def _page(items: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    more = len(items) > limit
    return schemas.page_doc(items[:limit], limit, str(offset + limit) if more else None)


@router.get("/playlists/{playlist_id}", response_model=schemas.PlaylistOut)
async def get_playlist(playlist_id: PlaylistId, principal: PrincipalDep, session: V1Session) -> JSONResponse:
    def load(sync: Session) -> dict[str, Any] | None:
        playlist = sync.get(Playlist, playlist_id)
        if playlist is None or not (playlist.is_public or playlist.owner_id == principal.user_id):
            return None
        entries = [schemas.entry_doc(e.position, e.added_at, _track(e.track)) for e in playlist.entries]
        return schemas.playlist_doc(
            playlist_id=playlist.id,
            name=playlist.name,
            description=playlist.description,
            is_public=playlist.is_public,
            owner_id=playlist.owner.id,
            owner_name=playlist.owner.display_name,
            updated_at=playlist.updated_at,
            entries=entries,
        )

    doc = await session.run_sync(load)
    if doc is None:
        raise not_found("playlist", playlist_id)
    return JSONResponse(doc)


@router.get("/tracks", response_model=schemas.TrackPage)
async def list_tracks(
    principal: PrincipalDep, session: V1Session, limit: PageSize = DEFAULT_PAGE, offset: Offset = 0
) -> JSONResponse:
    """New releases, newest first."""
    del principal  # any signed-in user may browse the catalogue

    def load(sync: Session) -> dict[str, Any]:
        query = (
            select(Track).order_by(Track.released_at.desc(), Track.id.desc()).offset(offset).limit(limit + 1)
        )
        return _page([_track(t) for t in sync.scalars(query)], limit, offset)

    return JSONResponse(await session.run_sync(load))


@router.get("/artists/{artist_id}/tracks", response_model=schemas.TrackPage)
async def list_artist_tracks(
    artist_id: ArtistId,
    principal: PrincipalDep,
    session: V1Session,
    limit: PageSize = DEFAULT_PAGE,
    offset: Offset = 0,
) -> JSONResponse:
    """An artist's tracks, most popular first."""
    del principal

    def load(sync: Session) -> dict[str, Any] | None:
        if sync.get(Artist, artist_id) is None:
            return None
        query = (
            select(Track)
            .where(Track.artist_id == artist_id)
            .order_by(Track.popularity.desc(), Track.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
        return _page([_track(t) for t in sync.scalars(query)], limit, offset)

    doc = await session.run_sync(load)
    if doc is None:
        raise not_found("artist", artist_id)
    return JSONResponse(doc)


@router.get("/me/library", response_model=schemas.LibraryPage)
async def my_library(
    principal: PrincipalDep, session: V1Session, limit: PageSize = DEFAULT_PAGE, offset: Offset = 0
) -> JSONResponse:
    """The caller's saved tracks, most recently saved first."""

    def load(sync: Session) -> dict[str, Any]:
        query = (
            select(SavedTrack)
            .where(SavedTrack.user_id == principal.user_id)
            .order_by(SavedTrack.saved_at.desc(), SavedTrack.track_id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
        items = [schemas.saved_doc(s.saved_at, _track(s.track)) for s in sync.scalars(query)]
        return _page(items, limit, offset)

    return JSONResponse(await session.run_sync(load))


@router.get("/users/{user_id}/playlists", response_model=schemas.PlaylistPage)
async def list_user_playlists(
    user_id: UserId,
    principal: PrincipalDep,
    session: V1Session,
    limit: PageSize = DEFAULT_PAGE,
    offset: Offset = 0,
) -> JSONResponse:
    """A user's playlists, newest first: all of them for the owner, the public ones for anyone else."""

    def load(sync: Session) -> dict[str, Any] | None:
        if sync.get(User, user_id) is None:
            return None
        query = (
            select(Playlist)
            .where(
                Playlist.owner_id == user_id, or_(Playlist.is_public, Playlist.owner_id == principal.user_id)
            )
            .order_by(Playlist.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
        items = [
            schemas.playlist_summary_doc(p.id, p.name, p.is_public, p.owner_id, p.updated_at)
            for p in sync.scalars(query)
        ]
        return _page(items, limit, offset)

    doc = await session.run_sync(load)
    if doc is None:
        raise not_found("user", user_id)
    return JSONResponse(doc)
