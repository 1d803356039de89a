"""The API contract on real PostgreSQL: v1 and v2 say the same, bad input is a 4xx, v2's HTTP extras work."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest

from catalog.service import create_app
from catalog.tokens import SigningKey, TokenIssuer
from tests.catalog.support import Seeded, bearer, fetch, serve, settings_for

pytestmark = pytest.mark.integration


def _public_playlist(seeded: Seeded, min_tracks: int = 1) -> int:
    rows = fetch(
        seeded,
        "SELECT p.id FROM playlists p JOIN playlist_tracks t ON t.playlist_id = p.id WHERE p.is_public "
        "GROUP BY p.id HAVING count(*) >= %s ORDER BY p.id LIMIT 1",
        min_tracks,
    )
    return int(rows[0][0])


async def _walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], version: str, pages: int
) -> list[Any]:
    """The items of the first ``pages`` pages, following ``page.next`` (an offset in v1, a cursor in v2)."""
    items: list[Any] = []
    token: str | None = None
    for _ in range(pages):
        sep = "&" if "?" in url else "?"
        page_url = url if token is None else f"{url}{sep}{'offset' if version == 'v1' else 'cursor'}={token}"
        response = await client.get(f"/{version}{page_url}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        token = body["page"]["next"]
        if token is None:
            break
    return items


async def test_a_playlist_is_the_same_json_in_v1_and_v2(
    client: httpx.AsyncClient, seeded: Seeded, issuer: TokenIssuer
) -> None:
    playlist_id = _public_playlist(seeded, min_tracks=300)
    headers = bearer(issuer, 1)
    v1 = await client.get(f"/v1/playlists/{playlist_id}", headers=headers)
    v2 = await client.get(f"/v2/playlists/{playlist_id}", headers=headers)
    assert v1.status_code == v2.status_code == 200
    assert v1.json() == v2.json()
    assert v1.json()["track_count"] == len(v1.json()["tracks"]) >= 300


@pytest.mark.parametrize(
    "url",
    [
        "/tracks?limit=20",
        "/artists/{artist}/tracks?limit=7",
        "/me/library?limit=9",
        "/users/{owner}/playlists?limit=2",
    ],
)
async def test_every_listing_yields_the_same_items_in_the_same_order_in_v1_and_v2(
    client: httpx.AsyncClient, seeded: Seeded, issuer: TokenIssuer, url: str
) -> None:
    """Offset pages (v1) and keyset pages (v2) walk the same sequence, page by page, to the end."""
    artist = fetch(seeded, "SELECT artist_id FROM tracks GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]
    viewer = 20  # a "hero" user: a library of 150 tracks
    owner = fetch(seeded, "SELECT owner_id FROM playlists GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]
    headers = bearer(issuer, viewer)
    path = url.format(artist=artist, owner=owner)
    v1 = await _walk(client, path, headers, "v1", pages=6)
    v2 = await _walk(client, path, headers, "v2", pages=6)
    assert v1 == v2
    assert len(v1) > 2, "the listing should span several pages"


async def test_a_first_page_is_identical_json_apart_from_the_next_token(
    client: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    headers = bearer(issuer, 1)
    v1 = (await client.get("/v1/tracks?limit=5", headers=headers)).json()
    v2 = (await client.get("/v2/tracks?limit=5", headers=headers)).json()
    assert v1["items"] == v2["items"]
    assert v1["page"]["limit"] == v2["page"]["limit"] == 5
    assert v1["page"]["next"] == "5"
    assert isinstance(v2["page"]["next"], str)


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "code"),
    [
        ("GET", "/v2/tracks?cursor=not-a-cursor", None, 400, "bad_cursor"),
        ("GET", "/v2/tracks?cursor=eyJ4IjoxfQ.AAAA", None, 400, "bad_cursor"),
        ("GET", "/v2/tracks?limit=101", None, 422, "validation_error"),
        ("GET", "/v1/tracks?limit=0", None, 422, "validation_error"),
        ("GET", "/v1/tracks?offset=-1", None, 422, "validation_error"),
        ("GET", "/v2/playlists/999999999", None, 404, "playlist_not_found"),
        ("GET", "/v1/playlists/999999999", None, 404, "playlist_not_found"),
        ("GET", "/v2/playlists/99999999999999999999999", None, 422, "validation_error"),
        ("GET", "/v1/playlists/abc", None, 422, "validation_error"),
        ("GET", "/v2/artists/999999999/tracks", None, 404, "artist_not_found"),
        ("GET", "/v1/artists/999999999/tracks", None, 404, "artist_not_found"),
        ("GET", "/v2/users/999999999/playlists", None, 404, "user_not_found"),
        ("POST", "/v2/playlists", {"name": ""}, 422, "validation_error"),
        ("POST", "/v2/playlists", {"name": "x", "owner_id": 2}, 422, "validation_error"),
        ("POST", "/v2/playlists", "{not json", 422, "validation_error"),
        ("POST", "/v2/playlists/1/tracks", {"track_id": "many"}, 422, "validation_error"),
        ("POST", "/v2/playlists/1/tracks", {"track_id": 2**70}, 422, "validation_error"),
    ],
)
async def test_bad_input_gets_a_4xx_with_a_message_never_a_500(
    client: httpx.AsyncClient,
    *,
    issuer: TokenIssuer,
    method: str,
    url: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    headers = bearer(issuer, 1)
    if isinstance(body, str):
        response = await client.request(
            method, url, content=body, headers={**headers, "Content-Type": "application/json"}
        )
    else:
        response = await client.request(method, url, json=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


async def test_a_cursor_from_another_listing_is_refused(
    client: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    headers = bearer(issuer, 20)
    library_cursor = (await client.get("/v2/me/library?limit=1", headers=headers)).json()["page"]["next"]
    assert library_cursor
    other_user = await client.get(f"/v2/me/library?cursor={library_cursor}", headers=bearer(issuer, 40))
    assert other_user.status_code == 400
    assert "another listing" in other_user.json()["error"]["message"]


async def test_requests_without_a_valid_token_get_401(client: httpx.AsyncClient, issuer: TokenIssuer) -> None:
    assert (await client.get("/v2/tracks")).status_code == 401
    assert (await client.get("/v1/tracks", headers={"Authorization": "Bearer nope"})).status_code == 401
    expired = bearer(issuer, 1, ttl_s=-10)
    response = await client.get("/v2/tracks", headers=expired)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_v2_answers_a_matching_if_none_match_with_an_empty_304(
    client: httpx.AsyncClient, seeded: Seeded, issuer: TokenIssuer
) -> None:
    headers = bearer(issuer, 1)
    url = f"/v2/playlists/{_public_playlist(seeded)}"
    first = await client.get(url, headers=headers)
    etag = first.headers["ETag"]
    again = await client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    other = await client.get(url, headers={**headers, "If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200


async def test_v2_gzips_large_bodies_and_v1_does_not(
    client: httpx.AsyncClient, seeded: Seeded, issuer: TokenIssuer
) -> None:
    headers = {**bearer(issuer, 1), "Accept-Encoding": "gzip"}
    url = f"/playlists/{_public_playlist(seeded, min_tracks=300)}"
    async with client.stream("GET", f"/v2{url}", headers=headers) as v2:
        raw_v2 = b"".join([chunk async for chunk in v2.aiter_raw()])
        assert v2.headers["Content-Encoding"] == "gzip"
    async with client.stream("GET", f"/v1{url}", headers=headers) as v1:
        raw_v1 = b"".join([chunk async for chunk in v1.aiter_raw()])
        assert "Content-Encoding" not in v1.headers
    assert len(raw_v2) * 3 < len(raw_v1), "JSON with repeated keys compresses well"
    assert len(gzip.decompress(raw_v2)) > len(raw_v2)
    small = await client.get("/v2/tracks?limit=1", headers=headers)
    assert "Content-Encoding" not in small.headers, "bodies under the minimum size go out as they are"


async def test_a_write_invalidates_the_cached_playlist_in_redis(
    seeded: Seeded, signing_key: SigningKey, issuer: TokenIssuer, redis_url: str, redis_prefix: str
) -> None:
    """Read (cached in Redis), append a track, read again: the new track is there at once, not after a TTL."""
    app = create_app(settings_for(seeded, signing_key, redis_url=redis_url, redis_prefix=redis_prefix))
    headers = bearer(issuer, 5)
    async with serve(app) as client:
        created = await client.post(
            "/v2/playlists", json={"name": "road trip", "is_public": True}, headers=headers
        )
        assert created.status_code == 201, created.text
        url = f"/v2/playlists/{created.json()['id']}"
        assert (await client.get(url, headers=headers)).json()["track_count"] == 0
        etag = (await client.get(url, headers=headers)).headers["ETag"]  # a cache hit now
        added = await client.post(f"{url}/tracks", json={"track_id": 7}, headers=headers)
        assert added.status_code == 201, added.text
        after = await client.get(url, headers={**headers, "If-None-Match": etag})
        assert after.status_code == 200, "the old ETag no longer matches"
        assert [t["track"]["id"] for t in after.json()["tracks"]] == [7]
        v1 = await client.get(url.replace("/v2/", "/v1/"), headers=headers)
        assert v1.json() == after.json()
