"""OWASP API1:2023 Broken Object Level Authorization, through the gateway to the real catalog.

The gateway checks only that the caller holds a valid token with the read/write scope; the catalog, which owns
playlists, decides whose they are from the *forwarded, verified* token (never a header the caller could set).
User B asking for user A's private playlist by id gets the same 404 as for a playlist that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.catalog_process import real_catalog
from tests.gateway.conftest import add_user, login, running, sqlite_settings
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog_url(tmp_path_factory: pytest.TempPathFactory, signing_key: SigningKey) -> Iterator[str]:
    """One catalog process for the module: starting it costs a second or two, each check milliseconds."""
    with real_catalog(tmp_path_factory.mktemp("catalog"), signing_key) as url:
        yield url


async def _bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    token = (await login(client, username)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_a_user_cannot_read_or_extend_another_users_private_playlist(
    tmp_path: Path, signing_key: SigningKey, catalog_url: str
) -> None:
    """B gets 404 (not 403: no existence oracle) for A's private playlist and cannot append to it."""
    unused = f"http://127.0.0.1:{free_port()}"  # nothing listens: the recommender plays no part here
    app = create_app(sqlite_settings(tmp_path, signing_key, catalog_url=catalog_url, recommender_url=unused))
    async with running(app) as client:
        alice_id = await add_user(app, "alice")
        await add_user(app, "bob")
        alice, bob = await _bearer(client, "alice"), await _bearer(client, "bob")
        created = await client.post(
            "/catalog/v2/playlists", headers=alice, json={"name": "diary", "is_public": False}
        )
        assert created.status_code == 201, created.text
        playlist_id = created.json()["id"]
        own = await client.get(f"/catalog/v2/playlists/{playlist_id}", headers=alice)
        theirs = await client.get(f"/catalog/v2/playlists/{playlist_id}", headers=bob)
        missing = await client.get("/catalog/v2/playlists/999999", headers=bob)
        append = await client.post(
            f"/catalog/v2/playlists/{playlist_id}/tracks", headers=bob, json={"track_id": 1}
        )
        listing = await client.get(f"/catalog/v2/users/{alice_id}/playlists", headers=bob)
    assert own.status_code == 200
    assert own.json()["owner"]["id"] == alice_id
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"]["code"] == missing.json()["error"]["code"]
    assert "diary" not in theirs.text
    assert append.status_code == 404
    assert listing.status_code == 200
    assert playlist_id not in {item["id"] for item in listing.json()["items"]}


async def test_a_spoofed_user_header_does_not_change_whose_objects_the_catalog_serves(
    tmp_path: Path, signing_key: SigningKey, catalog_url: str
) -> None:
    """Identity comes from the verified token only: ``X-User-Id: <owner>`` from B changes nothing."""
    unused = f"http://127.0.0.1:{free_port()}"
    app = create_app(sqlite_settings(tmp_path, signing_key, catalog_url=catalog_url, recommender_url=unused))
    async with running(app) as client:
        alice_id = await add_user(app, "carol")
        await add_user(app, "dave")
        carol, dave = await _bearer(client, "carol"), await _bearer(client, "dave")
        created = await client.post("/catalog/v2/playlists", headers=carol, json={"name": "secret"})
        playlist_id = created.json()["id"]
        spoofed = {**dave, "X-User-Id": str(alice_id), "X-Forwarded-User": str(alice_id)}
        response = await client.get(f"/catalog/v2/playlists/{playlist_id}", headers=spoofed)
        forged = await client.get(
            f"/catalog/v2/playlists/{playlist_id}", headers={"Authorization": "Bearer not-a-token"}
        )
    assert created.status_code == 201
    assert created.json()["is_public"] is False  # private is the default
    assert response.status_code == 404
    assert forged.status_code == 401
