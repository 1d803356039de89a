"""OWASP API1:2023 Broken Object Level Authorization, through the gateway to the real catalog and recommender.

The catalog owns playlists and decides whose they are from the *forwarded, verified* token (never a header the
caller could set): user B asking for user A's private playlist by id gets the same 404 as for a playlist that
does not exist. The recommender verifies no token, so the gateway decides for it (``gateway/ownership.py``):
``/recommendations/users/{id}/...`` (lists, explanations, plays) only for the token's own id, or an admin.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from gateway import create_app
from gateway.keys import SigningKey
from recommender.service import create_app as create_recommender
from recommender.settings import RecommenderSettings
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


# --- the recommender: ``/recommendations/users/{id}/...`` is the caller's own, or an admin's to see ---

# item 3 exists in the synthetic model the recommender trains at start-up
PLAY = {"plays": [{"item_id": "3", "count": 2}]}


@pytest.fixture
async def recommender_url(tmp_path: Path) -> AsyncIterator[str]:
    """The real recommender on a loopback port (embedded: in-memory history, a tiny synthetic model)."""
    settings = RecommenderSettings(
        mode="embedded",
        redis_url=None,
        models_dir=tmp_path / "models",
        bootstrap_users=10,
        bootstrap_items=20,
        bootstrap_iterations=1,
    )
    port = free_port()
    config = uvicorn.Config(
        create_recommender(settings), host="127.0.0.1", port=port, log_level="warning", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        if task.done():
            await task  # surfaces the start-up error
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def gateway_app(tmp_path: Path, key: SigningKey, recommender: str, **overrides: Any) -> Any:
    unused = f"http://127.0.0.1:{free_port()}"  # nothing listens: the catalog plays no part here
    return create_app(
        sqlite_settings(tmp_path, key, catalog_url=unused, recommender_url=recommender, **overrides)
    )


def assert_forbidden_object(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "request_id"}
    assert error["code"] == "forbidden_object"


async def test_a_user_cannot_read_another_users_recommendations_or_explanations_or_post_plays_for_them(
    tmp_path: Path, signing_key: SigningKey, recommender_url: str
) -> None:
    """A asking for B's list, B's explanation or posting plays as B gets 403; B's history is untouched."""
    app = gateway_app(tmp_path, signing_key, recommender_url)
    async with running(app) as client:
        await add_user(app, "alice")
        bob_id = await add_user(app, "bob")
        alice, bob = await _bearer(client, "alice"), await _bearer(client, "bob")
        theirs = f"/recommendations/users/{bob_id}"
        attempts = [
            await client.get(f"{theirs}/recommendations?k=3", headers=alice),
            await client.get(theirs, headers=alice),  # the bare degradable form
            await client.get(f"{theirs}/recommendations/3/explain", headers=alice),
            await client.post(f"{theirs}/plays", headers=alice, json=PLAY),
            await client.post(f"{theirs}/plays", headers={**alice, "Idempotency-Key": "k1"}, json=PLAY),
        ]
        bobs_own = await client.post(f"{theirs}/plays", headers=bob, json=PLAY)
    for attempt in attempts:
        assert_forbidden_object(attempt)
    assert bobs_own.status_code == 200, bobs_own.text
    assert bobs_own.json()["generation"] == 1  # the first write to B's history: none of A's got through


async def test_a_user_can_read_and_write_their_own_recommendations(
    tmp_path: Path, signing_key: SigningKey, recommender_url: str
) -> None:
    """The check is no blanket ban: A posts plays as A, then reads A's list and an explanation from them."""
    app = gateway_app(tmp_path, signing_key, recommender_url)
    async with running(app) as client:
        alice_id = await add_user(app, "alice")
        alice = await _bearer(client, "alice")
        own = f"/recommendations/users/{alice_id}"
        played = await client.post(f"{own}/plays", headers=alice, json=PLAY)
        listing = await client.get(f"{own}/recommendations?k=3", headers=alice)
        explained = await client.get(f"{own}/recommendations/3/explain", headers=alice)
    assert played.status_code == 200, played.text
    assert (played.json()["user_id"], played.json()["generation"]) == (str(alice_id), 1)
    assert listing.status_code == 200, listing.text
    assert listing.json()["user_id"] == str(alice_id)
    assert len(listing.json()["items"]) == 3
    assert explained.status_code == 200, explained.text
    assert explained.json()["user_id"] == str(alice_id)


async def test_an_admin_can_read_and_post_plays_for_another_user(
    tmp_path: Path, signing_key: SigningKey, recommender_url: str
) -> None:
    """A token with the ``admin`` scope acts for B (support and operators); ordinary tokens never carry it."""
    app = gateway_app(tmp_path, signing_key, recommender_url)
    async with running(app) as client:
        bob_id = await add_user(app, "bob")
        await add_user(app, "root", admin=True)
        admin = await _bearer(client, "root")
        theirs = f"/recommendations/users/{bob_id}"
        played = await client.post(f"{theirs}/plays", headers=admin, json=PLAY)
        listing = await client.get(f"{theirs}/recommendations?k=3", headers=admin)
        explained = await client.get(f"{theirs}/recommendations/3/explain", headers=admin)
    assert played.status_code == 200, played.text
    assert played.json()["user_id"] == str(bob_id)
    assert listing.status_code == 200, listing.text
    assert listing.json()["user_id"] == str(bob_id)
    assert explained.status_code == 200, explained.text


async def test_shared_lists_stay_open_to_any_user_with_the_read_scope(
    tmp_path: Path, signing_key: SigningKey, recommender_url: str
) -> None:
    """``/popular`` and ``/items/{id}/similar`` belong to nobody: no ownership check applies to them."""
    app = gateway_app(tmp_path, signing_key, recommender_url)
    async with running(app) as client:
        await add_user(app, "alice")
        alice = await _bearer(client, "alice")
        popular = await client.get("/recommendations/popular?k=3", headers=alice)
        similar = await client.get("/recommendations/items/3/similar?k=3", headers=alice)
        anonymous = await client.get("/recommendations/popular?k=3")
    assert popular.status_code == 200, popular.text
    assert len(popular.json()["items"]) == 3
    assert similar.status_code == 200, similar.text
    assert anonymous.status_code == 401  # open to any signed-in reader, not to everyone


async def test_encoded_or_disguised_ids_do_not_get_around_the_check(
    tmp_path: Path, signing_key: SigningKey, recommender_url: str
) -> None:
    """``users%252F{B}`` reaches the recommender as ``users%2F{B}``, which it decodes to B's list: refused;
    ``USERS/{B}``, ``0{B}`` and a trailing slash are not A's id either."""
    app = gateway_app(tmp_path, signing_key, recommender_url)
    async with running(app) as client:
        await add_user(app, "alice")
        bob_id = await add_user(app, "bob")
        alice = await _bearer(client, "alice")
        paths = [
            f"/recommendations/users%252F{bob_id}/recommendations",
            f"/recommendations/users%2F{bob_id}/recommendations",
            f"/recommendations/USERS/{bob_id}/recommendations",
            f"/recommendations/users/0{bob_id}/recommendations",
            f"/recommendations/users/{bob_id}/",
        ]
        responses = [await client.get(path, headers=alice) for path in paths]
    for path, response in zip(paths, responses, strict=True):
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden_object", path


async def test_the_degraded_list_is_refused_for_another_users_id_as_well(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    """Recommender down: A still gets 403 for B's list (not a fallback under B's id); A's own degrades."""
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens: every call fails, the fallback answers
    app = gateway_app(tmp_path, signing_key, down, retry_max_attempts=1)
    async with running(app) as client:
        alice_id = await add_user(app, "alice")
        bob_id = await add_user(app, "bob")
        alice = await _bearer(client, "alice")
        theirs = await client.get(f"/recommendations/users/{bob_id}/recommendations", headers=alice)
        own = await client.get(f"/recommendations/users/{alice_id}/recommendations", headers=alice)
    assert_forbidden_object(theirs)
    assert own.status_code == 200, own.text
    assert own.headers["x-degraded"] == "popular"
    assert own.json()["user_id"] == str(alice_id)
