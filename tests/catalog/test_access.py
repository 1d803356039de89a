"""BOLA (OWASP API1): user A never reads or changes user B's private playlist, through any endpoint."""

from __future__ import annotations

import httpx
import pytest

from catalog.tokens import TokenIssuer
from tests.catalog.support import Seeded, bearer, fetch

pytestmark = pytest.mark.integration


def _private_playlist(seeded: Seeded) -> tuple[int, int, int]:
    """(playlist, its owner, another user) for a private playlist that has tracks."""
    row = fetch(
        seeded,
        "SELECT p.id, p.owner_id FROM playlists p WHERE NOT p.is_public "
        "AND EXISTS (SELECT 1 FROM playlist_tracks t WHERE t.playlist_id = p.id) ORDER BY p.id LIMIT 1",
    )[0]
    owner = int(row[1])
    return int(row[0]), owner, owner % seeded.spec.users + 1


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_a_private_playlist_is_the_owners_alone_and_a_404_for_anyone_else(
    client: httpx.AsyncClient, seeded: Seeded, issuer: TokenIssuer, version: str
) -> None:
    playlist, owner, stranger = _private_playlist(seeded)
    mine = await client.get(f"/{version}/playlists/{playlist}", headers=bearer(issuer, owner))
    assert mine.status_code == 200
    theirs = await client.get(f"/{version}/playlists/{playlist}", headers=bearer(issuer, stranger))
    missing = await client.get(f"/{version}/playlists/999999999", headers=bearer(issuer, stranger))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"]["code"] == missing.json()["error"]["code"]
    assert theirs.json()["error"]["message"] == f"no playlist {playlist}", "nothing says it exists"


async def test_the_cache_never_serves_a_private_playlist_to_a_stranger(
    client: httpx.AsyncClient, seeded: Seeded, issuer: TokenIssuer
) -> None:
    """The owner's read caches the document; the stranger's read right after is a cache hit: still a 404."""
    playlist, owner, stranger = _private_playlist(seeded)
    assert (await client.get(f"/v2/playlists/{playlist}", headers=bearer(issuer, owner))).status_code == 200
    etag = (await client.get(f"/v2/playlists/{playlist}", headers=bearer(issuer, owner))).headers["ETag"]
    probe = await client.get(
        f"/v2/playlists/{playlist}", headers={**bearer(issuer, stranger), "If-None-Match": etag}
    )
    assert probe.status_code == 404, "a known ETag must not turn into a 304 for someone else"


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_list_endpoints_show_a_strangers_public_playlists_only(
    client: httpx.AsyncClient, seeded: Seeded, issuer: TokenIssuer, version: str
) -> None:
    playlist, owner, stranger = _private_playlist(seeded)
    url = f"/{version}/users/{owner}/playlists?limit=100"
    as_owner = (await client.get(url, headers=bearer(issuer, owner))).json()["items"]
    as_stranger = (await client.get(url, headers=bearer(issuer, stranger))).json()["items"]
    assert playlist in {p["id"] for p in as_owner}
    assert playlist not in {p["id"] for p in as_stranger}
    assert all(p["is_public"] for p in as_stranger)


async def test_a_stranger_cannot_add_tracks_to_anyone_elses_playlist(
    client: httpx.AsyncClient, seeded: Seeded, issuer: TokenIssuer
) -> None:
    playlist, _owner, stranger = _private_playlist(seeded)
    private = await client.post(
        f"/v2/playlists/{playlist}/tracks", json={"track_id": 1}, headers=bearer(issuer, stranger)
    )
    assert private.status_code == 404
    public_row = fetch(
        seeded, "SELECT id, owner_id FROM playlists WHERE is_public AND owner_id <> %s LIMIT 1", stranger
    )
    public = await client.post(
        f"/v2/playlists/{public_row[0][0]}/tracks", json={"track_id": 1}, headers=bearer(issuer, stranger)
    )
    assert public.status_code == 403
    assert public.json()["error"]["code"] == "not_playlist_owner"


async def test_writes_need_the_write_scope(client: httpx.AsyncClient, issuer: TokenIssuer) -> None:
    read_only = bearer(issuer, 3, scopes=("catalog:read",))
    response = await client.post("/v2/playlists", json={"name": "nope"}, headers=read_only)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
