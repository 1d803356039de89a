"""``/v2``: the same API and the same JSON as ``/v1``, rebuilt for speed, one measured fix at a time.

- Queries: the needed columns only, joined in one statement (``queries.py``): a playlist costs 2 queries
  whatever its length, a page 1, instead of one per track, artist and album.
- Pagination: signed keyset cursors (``cursor.py``) over the composite indexes of revision 0002 ("optimise").
- Payloads: orjson, gzip above a minimum size (``service.py``), and a weak ``ETag`` so a client that already
  has the document gets a bodiless ``304`` for ``If-None-Match``.
- Caching: whole playlist documents in ratelimit's stampede-safe cache-aside (Redis, or memory when embedded),
  invalidated after every committed write to the playlist; a 404 is cached too, and a new playlist
  invalidates its id. Cached blobs carry the owner and visibility, so access is still checked on every hit.
- Writes: a POST with an ``Idempotency-Key`` acts once, the key committed with the effect
  (``idempotency.py``), so the gateway's retry after a lost answer replays instead of acting twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import idempotency, queries, schemas
from catalog.auth import require_scope
from catalog.cursor import CursorError
from catalog.deps import (
    ArtistId,
    CursorParam,
    PageSize,
    PlaylistId,
    PrincipalDep,
    StateDep,
    UserId,
    V2Session,
)
from catalog.errors import bad_cursor, not_found
from catalog.models import Artist, Playlist, PlaylistTrack, Track, User
from catalog.profiles import ensure_profile
from catalog.schemas import DEFAULT_PAGE, MAX_PLAYLIST_TRACKS, from_micros, micros
from observability import ApiError

router = APIRouter(prefix="/v2", tags=["v2: optimised"])
MISSING = b"-\n"
CACHE_CONTROL = "private, no-cache"  # per-user (auth) data: browsers may keep it, but must revalidate


def playlist_key(playlist_id: int) -> str:
    return f"playlist:{playlist_id}"


def etag_of(body: bytes) -> str:
    return f'W/"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or wanted in tags


def respond(request: Request, body: bytes, etag: str | None = None) -> Response:
    etag = etag or etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _track(row: Row[Any]) -> dict[str, Any]:
    return schemas.track_doc(
        track_id=row.id,
        title=row.title,
        duration_ms=row.duration_ms,
        explicit=row.explicit,
        popularity=row.popularity,
        released_at=row.released_at,
        artist_id=row.artist_id,
        artist_name=row.artist_name,
        album_id=row.album_id,
        album_title=row.album_title,
    )


def _decode(state: StateDep, scope: str, cursor: str | None, types: Sequence[type]) -> tuple[Any, ...] | None:
    if cursor is None:
        return None
    try:
        return state.cursors.decode(scope, cursor, types)
    except CursorError as exc:
        raise bad_cursor(str(exc)) from exc


def _page(state: StateDep, scope: str, items: list[dict[str, Any]], limit: int, keys: list[Any]) -> bytes:
    """The page body; ``keys`` are the sort keys of the rows fetched (``limit + 1`` means there is more)."""
    next_cursor = state.cursors.encode(scope, keys[limit - 1]) if len(items) > limit else None
    return orjson.dumps(schemas.page_doc(items[:limit], limit, next_cursor))


async def _playlist_blob(session: AsyncSession, playlist_id: int) -> bytes:
    """``owner public etag\\n`` + the document, or ``MISSING``: two queries, however long the playlist."""
    head = (await session.execute(queries.playlist_head(playlist_id))).first()
    if head is None:
        return MISSING
    rows = (await session.execute(queries.playlist_entries(playlist_id))).all()
    entries = [schemas.entry_doc(r.position, r.added_at, _track(r)) for r in rows]
    body = orjson.dumps(
        schemas.playlist_doc(
            playlist_id=head.id,
            name=head.name,
            description=head.description,
            is_public=head.is_public,
            owner_id=head.owner_id,
            owner_name=head.display_name,
            updated_at=head.updated_at,
            entries=entries,
        )
    )
    return b"%d %d %s\n" % (head.owner_id, head.is_public, etag_of(body).encode()) + body


@router.get("/playlists/{playlist_id}", response_model=schemas.PlaylistOut)
async def get_playlist(
    request: Request, playlist_id: PlaylistId, principal: PrincipalDep, state: StateDep
) -> Response:
    async def compute() -> bytes:
        # its own session: concurrent requests for this key share the computation (single flight), and it
        # must not depend on the first requester staying connected
        async with state.databases.v2() as session:
            return await _playlist_blob(session, playlist_id)

    blob = await state.cache.get_or_compute(playlist_key(playlist_id), compute, state.settings.cache_ttl_s)
    meta, _, body = blob.partition(b"\n")
    if blob == MISSING:
        raise not_found("playlist", playlist_id)
    owner, public, etag = meta.split(b" ")
    if public != b"1" and int(owner) != principal.user_id:
        raise not_found("playlist", playlist_id)  # the same 404 as a playlist that does not exist
    return respond(request, body, etag.decode())


@router.get("/tracks", response_model=schemas.TrackPage)
async def list_tracks(
    request: Request,
    *,
    principal: PrincipalDep,
    state: StateDep,
    session: V2Session,
    limit: PageSize = DEFAULT_PAGE,
    cursor: CursorParam = None,
) -> Response:
    """New releases, newest first."""
    del principal
    after = _decode(state, "tracks", cursor, (int, int))
    rows = (
        await session.execute(
            queries.new_releases(limit, (from_micros(after[0]), after[1]) if after else None)
        )
    ).all()
    keys = [(micros(r.released_at), r.id) for r in rows]
    return respond(request, _page(state, "tracks", [_track(r) for r in rows], limit, keys))


@router.get("/artists/{artist_id}/tracks", response_model=schemas.TrackPage)
async def list_artist_tracks(
    request: Request,
    *,
    artist_id: ArtistId,
    principal: PrincipalDep,
    state: StateDep,
    session: V2Session,
    limit: PageSize = DEFAULT_PAGE,
    cursor: CursorParam = None,
) -> Response:
    """An artist's tracks, most popular first."""
    del principal
    scope = f"artist:{artist_id}"
    after = _decode(state, scope, cursor, (int, int))
    rows = (await session.execute(queries.artist_tracks(artist_id, limit, after))).all()
    if not rows and (await session.execute(select(Artist.id).where(Artist.id == artist_id))).first() is None:
        raise not_found("artist", artist_id)
    keys = [(r.popularity, r.id) for r in rows]
    return respond(request, _page(state, scope, [_track(r) for r in rows], limit, keys))


@router.get("/me/library", response_model=schemas.LibraryPage)
async def my_library(
    request: Request,
    *,
    principal: PrincipalDep,
    state: StateDep,
    session: V2Session,
    limit: PageSize = DEFAULT_PAGE,
    cursor: CursorParam = None,
) -> Response:
    """The caller's saved tracks, most recently saved first."""
    scope = f"library:{principal.user_id}"
    after = _decode(state, scope, cursor, (int, int))
    bound = (from_micros(after[0]), after[1]) if after else None
    rows = (await session.execute(queries.library(principal.user_id, limit, bound))).all()
    items = [schemas.saved_doc(r.saved_at, _track(r)) for r in rows]
    keys = [(micros(r.saved_at), r.id) for r in rows]
    return respond(request, _page(state, scope, items, limit, keys))


@router.get("/users/{user_id}/playlists", response_model=schemas.PlaylistPage)
async def list_user_playlists(
    request: Request,
    *,
    user_id: UserId,
    principal: PrincipalDep,
    state: StateDep,
    session: V2Session,
    limit: PageSize = DEFAULT_PAGE,
    cursor: CursorParam = None,
) -> Response:
    """A user's playlists, newest first: all of them for the owner, the public ones for anyone else."""
    scope = f"user-playlists:{user_id}"
    after = _decode(state, scope, cursor, (int,))
    query = queries.user_playlists(user_id, principal.user_id, limit, after[0] if after else None)
    rows = (await session.execute(query)).all()
    if not rows and (await session.execute(select(User.id).where(User.id == user_id))).first() is None:
        raise not_found("user", user_id)
    items = [schemas.playlist_summary_doc(r.id, r.name, r.is_public, r.owner_id, r.updated_at) for r in rows]
    return respond(request, _page(state, scope, items, limit, [(r.id,) for r in rows]))


@router.post("/playlists", status_code=201, response_model=schemas.PlaylistSummary)
async def create_playlist(
    request: Request, body: schemas.NewPlaylist, principal: PrincipalDep, state: StateDep, session: V2Session
) -> Response:
    """Create a playlist; with an ``Idempotency-Key``, a repeat replays the first answer instead."""
    require_scope(principal, state.settings.write_scope)
    keyed = await idempotency.keyed_request(request, principal.user_id)
    now = dt.datetime.now(dt.UTC)
    async with session.begin():
        if keyed and (replay := await idempotency.claim(session, keyed)) is not None:
            return replay
        await ensure_profile(session, principal.user_id)
        values = {"owner_id": principal.user_id, "created_at": now, "updated_at": now, **body.model_dump()}
        playlist_id = (
            await session.execute(insert(Playlist).values(values).returning(Playlist.id))
        ).scalar_one()
        doc = schemas.playlist_summary_doc(playlist_id, body.name, body.is_public, principal.user_id, now)
        response = Response(orjson.dumps(doc), status_code=201, media_type="application/json",
                            headers={"Location": f"/v2/playlists/{playlist_id}"})  # fmt: skip
        if keyed:
            await idempotency.record(session, keyed, response)  # committed with the playlist, or not at all
    await state.cache.invalidate(playlist_key(playlist_id))  # a probe may have cached this id's 404
    return response


@router.post("/playlists/{playlist_id}/tracks", status_code=201, response_model=schemas.EntryCreated)
async def add_track(
    request: Request,
    *,
    playlist_id: PlaylistId,
    body: schemas.NewEntry,
    principal: PrincipalDep,
    state: StateDep,
    session: V2Session,
) -> Response:
    """Append a track; only the owner may. Concurrent appends queue on the playlist's row lock."""
    require_scope(principal, state.settings.write_scope)
    keyed = await idempotency.keyed_request(request, principal.user_id)
    now = dt.datetime.now(dt.UTC)
    async with session.begin():
        # the key first: a duplicate waits here, before it takes the playlist's lock
        if keyed and (replay := await idempotency.claim(session, keyed)) is not None:
            return replay
        lock = (
            select(Playlist.owner_id, Playlist.is_public).where(Playlist.id == playlist_id).with_for_update()
        )
        playlist = (await session.execute(lock)).first()
        if playlist is None or (not playlist.is_public and playlist.owner_id != principal.user_id):
            raise not_found("playlist", playlist_id)
        if playlist.owner_id != principal.user_id:
            raise ApiError(403, "not_playlist_owner", "only the owner can add tracks to this playlist")
        if (await session.execute(select(Track.id).where(Track.id == body.track_id))).first() is None:
            raise ApiError(422, "track_not_found", f"no track {body.track_id}")
        stats = select(func.count(), func.coalesce(func.max(PlaylistTrack.position) + 1, 0)).where(
            PlaylistTrack.playlist_id == playlist_id
        )
        count, position = (await session.execute(stats)).one()
        if count >= MAX_PLAYLIST_TRACKS:
            raise ApiError(409, "playlist_full", f"a playlist holds at most {MAX_PLAYLIST_TRACKS} tracks")
        entry = {"playlist_id": playlist_id, "position": position, "track_id": body.track_id, "added_at": now}
        await session.execute(insert(PlaylistTrack).values(entry))
        await session.execute(update(Playlist).where(Playlist.id == playlist_id).values(updated_at=now))
        doc = {**entry, "added_at": schemas.iso(now)}
        response = Response(orjson.dumps(doc), status_code=201, media_type="application/json")
        if keyed:
            await idempotency.record(session, keyed, response)
    await state.cache.invalidate(playlist_key(playlist_id))  # after commit: the next read sees the new track
    return response
