"""The catalog honours ``Idempotency-Key`` itself: the key commits with the effect, so a repeat acts once.

On real PostgreSQL (and SQLite in embedded mode): a replay returns the first answer and creates nothing; the
same key with another body is refused; two concurrent requests with one key make one playlist, the second
waiting on the first's row lock and then replaying; without a key nothing changes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from catalog.rows import SeedSpec
from catalog.seed import seed_postgres
from catalog.service import create_app
from catalog.settings import CatalogSettings
from catalog.tokens import SigningKey, TokenIssuer
from tests.catalog.support import Seeded, bearer, fetch, serve, settings_for
from tests.support.isolation import temporary_schema
from tests.support.migrations import upgrade

pytestmark = pytest.mark.integration

TINY = SeedSpec(tracks=60, playlists=4, users=5, hero_every=2, hero_size=10, max_playlist=20)
USER = 3  # a user of the tiny catalogue


@pytest.fixture(scope="module")
def seeded(database_url: str) -> Iterator[Seeded]:
    """A catalogue of this module's own: its many new playlists must not change what other modules list."""
    with temporary_schema(database_url) as schema:
        upgrade("catalog", database_url, schema)
        seed_postgres(database_url, schema, TINY)
        yield Seeded(database_url, schema, TINY)


@pytest.fixture
async def client(seeded: Seeded, signing_key: SigningKey) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings_for(seeded, signing_key))) as http:
        yield http


def _playlists_named(seeded: Seeded, name: str) -> int:
    return int(fetch(seeded, "SELECT count(*) FROM playlists WHERE name = %s", name)[0][0])


def _keys(seeded: Seeded, key: str) -> int:
    return int(fetch(seeded, "SELECT count(*) FROM idempotency_keys WHERE key = %s", key)[0][0])


async def test_a_replay_returns_the_first_answer_and_creates_one_playlist(
    client: httpx.AsyncClient, issuer: TokenIssuer, seeded: Seeded
) -> None:
    name = f"keyed {uuid.uuid4().hex[:8]}"
    headers = {**bearer(issuer, USER), "Idempotency-Key": name}
    first = await client.post("/v2/playlists", headers=headers, json={"name": name})
    again = await client.post("/v2/playlists", headers=headers, json={"name": name})
    assert first.status_code == again.status_code == 201, again.text
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _playlists_named(seeded, name) == 1
    assert _keys(seeded, name) == 1


async def test_the_same_key_with_a_different_body_is_refused_with_422(
    client: httpx.AsyncClient, issuer: TokenIssuer, seeded: Seeded
) -> None:
    name = f"reused {uuid.uuid4().hex[:8]}"
    headers = {**bearer(issuer, USER), "Idempotency-Key": name}
    assert (await client.post("/v2/playlists", headers=headers, json={"name": name})).status_code == 201
    other = await client.post("/v2/playlists", headers=headers, json={"name": name + "!"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert _playlists_named(seeded, name + "!") == 0


async def test_keys_are_scoped_to_the_caller(
    client: httpx.AsyncClient, issuer: TokenIssuer, seeded: Seeded
) -> None:
    name = f"scoped {uuid.uuid4().hex[:8]}"
    for user in (USER, USER + 1):
        headers = {**bearer(issuer, user), "Idempotency-Key": name}
        response = await client.post("/v2/playlists", headers=headers, json={"name": name})
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert _playlists_named(seeded, name) == 2


async def _wait_for_lock_waits(seeded: Seeded, *fragments: str) -> None:
    """Until a backend waits on a lock with each fragment in its query: both requests are truly in flight."""
    query = (
        "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    async with await psycopg.AsyncConnection.connect(seeded.database_url, autocommit=True) as conn:
        for _ in range(200):
            waiting = [row[0] for row in await (await conn.execute(query)).fetchall()]
            if all(any(fragment in text for text in waiting) for fragment in fragments):
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"never saw lock waits for {fragments}")


async def test_two_concurrent_requests_with_one_key_create_one_playlist(
    client: httpx.AsyncClient, issuer: TokenIssuer, seeded: Seeded
) -> None:
    """The first holds the key while it waits on a locked table; the second waits on the key, then replays."""
    name = f"racing {uuid.uuid4().hex[:8]}"
    headers = {**bearer(issuer, USER), "Idempotency-Key": name}
    async with await psycopg.AsyncConnection.connect(seeded.database_url) as blocker:
        await blocker.execute(
            sql.SQL("LOCK TABLE {}.playlists IN EXCLUSIVE MODE").format(sql.Identifier(seeded.schema))
        )
        racers = [
            asyncio.create_task(client.post("/v2/playlists", headers=headers, json={"name": name}))
            for _ in range(2)
        ]
        await _wait_for_lock_waits(seeded, "INSERT INTO playlists", "INSERT INTO idempotency_keys")
        await blocker.rollback()  # releases the table: the first commits, the second sees its key
        first, second = await asyncio.gather(*racers)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.content == second.content
    assert sorted(r.headers.get("idempotent-replayed", "no") for r in (first, second)) == ["no", "true"]
    assert _playlists_named(seeded, name) == 1
    assert _keys(seeded, name) == 1


async def test_without_a_key_every_post_acts_and_no_key_is_stored(
    client: httpx.AsyncClient, issuer: TokenIssuer, seeded: Seeded
) -> None:
    name = f"unkeyed {uuid.uuid4().hex[:8]}"
    for _ in range(2):
        response = await client.post("/v2/playlists", headers=bearer(issuer, USER), json={"name": name})
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert _playlists_named(seeded, name) == 2
    assert _keys(seeded, name) == 0


async def test_a_failed_request_stores_no_key_so_its_retry_acts(
    client: httpx.AsyncClient, issuer: TokenIssuer, seeded: Seeded
) -> None:
    """The key rolls back with the 4xx: nothing happened, so nothing is replayed."""
    key = f"failing {uuid.uuid4().hex[:8]}"
    headers = {**bearer(issuer, USER), "Idempotency-Key": key}
    missing = await client.post("/v2/me/plays", headers=headers, json={"track_id": 10**12})
    assert missing.status_code == 404
    assert _keys(seeded, key) == 0


async def test_a_replayed_play_is_recorded_once_with_one_event(
    client: httpx.AsyncClient, issuer: TokenIssuer, seeded: Seeded
) -> None:
    key = f"play {uuid.uuid4().hex[:8]}"
    headers = {**bearer(issuer, USER), "Idempotency-Key": key}
    before = fetch(seeded, "SELECT count(*) FROM plays WHERE user_id = %s", USER)[0][0]
    first = await client.post("/v2/me/plays", headers=headers, json={"track_id": 1})
    again = await client.post("/v2/me/plays", headers=headers, json={"track_id": 1})
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert fetch(seeded, "SELECT count(*) FROM plays WHERE user_id = %s", USER)[0][0] == before + 1
    event = str(first.json()["event_id"])
    assert fetch(seeded, "SELECT count(*) FROM outbox WHERE id = %s::uuid", event)[0][0] == 1


async def test_a_key_older_than_a_day_acts_again(
    client: httpx.AsyncClient, issuer: TokenIssuer, seeded: Seeded
) -> None:
    name = f"expired {uuid.uuid4().hex[:8]}"
    headers = {**bearer(issuer, USER), "Idempotency-Key": name}
    assert (await client.post("/v2/playlists", headers=headers, json={"name": name})).status_code == 201
    with psycopg.connect(seeded.database_url) as conn:
        conn.execute(
            sql.SQL(
                "UPDATE {}.idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = %s"
            ).format(sql.Identifier(seeded.schema)),
            (name,),
        )
    again = await client.post("/v2/playlists", headers=headers, json={"name": name})
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert _playlists_named(seeded, name) == 2
    assert _keys(seeded, name) == 1


async def test_embedded_mode_on_sqlite_replays_and_refuses_a_reused_key(tmp_path: Path) -> None:
    database = tmp_path / "catalog.sqlite3"
    settings = CatalogSettings(
        mode="embedded",
        database_url=f"sqlite+aiosqlite:///{database}",
        redis_url=None,
        embedded_seed_tracks=50,
        embedded_seed_playlists=5,
    )
    async with serve(create_app(settings)) as client:
        token = (await client.post("/dev/token", json={"user_id": 1})).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "sqlite-key"}
        first = await client.post("/v2/playlists", headers=headers, json={"name": "embedded keyed"})
        again = await client.post("/v2/playlists", headers=headers, json={"name": "embedded keyed"})
        other = await client.post("/v2/playlists", headers=headers, json={"name": "embedded other"})
    assert first.status_code == again.status_code == 201, again.text
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    with sqlite3.connect(database) as conn:
        names = conn.execute("SELECT name FROM playlists WHERE name LIKE 'embedded %'").fetchall()
    assert names == [("embedded keyed",)]
