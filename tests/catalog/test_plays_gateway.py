"""``POST /catalog/v2/me/plays`` through the gateway to the real catalog process in embedded mode (SQLite).

Proves the route end to end: the gateway checks the write scope and forwards the caller's token and body;
the catalog (tables created from the models on SQLite) records the play with its outbox event; a retried
POST with the same ``Idempotency-Key`` is replayed by the gateway, so the play is recorded once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.catalog_process import real_catalog
from tests.gateway.conftest import add_user, login, running, sqlite_settings
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def _rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as conn:
        return conn.execute(query).fetchall()


async def _bearer(client: httpx.AsyncClient, username: str, **extra: str) -> dict[str, str]:
    response = await login(client, username, **extra)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_the_gateway_forwards_a_play_with_the_token_and_the_catalog_records_it_once(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    workdir = tmp_path / "catalog"
    workdir.mkdir()
    unused = f"http://127.0.0.1:{free_port()}"  # nothing listens: the recommender plays no part here
    with real_catalog(workdir, signing_key) as catalog_url:
        app = create_app(
            sqlite_settings(tmp_path, signing_key, catalog_url=catalog_url, recommender_url=unused)
        )
        async with running(app) as client:
            user_id = await add_user(app, "ada")
            writer = await _bearer(client, "ada")
            reader = await _bearer(client, "ada", scope="catalog:read")
            keyed = {**writer, "Idempotency-Key": "play-1"}
            first = await client.post("/catalog/v2/me/plays", headers=keyed, json={"track_id": 3})
            replay = await client.post("/catalog/v2/me/plays", headers=keyed, json={"track_id": 3})
            read_only = await client.post("/catalog/v2/me/plays", headers=reader, json={"track_id": 3})
            unknown = await client.post("/catalog/v2/me/plays", headers=writer, json={"track_id": 10**6})
            extra = await client.post(
                "/catalog/v2/me/plays", headers=writer, json={"track_id": 3, "user_id": user_id + 1}
            )
    assert first.status_code == 202, first.text
    assert replay.status_code == 202
    assert replay.json() == first.json()
    assert read_only.status_code == 403  # refused at the gateway: catalog:write is needed for a POST
    assert read_only.json()["error"]["code"] == "insufficient_scope"
    assert (unknown.status_code, extra.status_code) == (404, 422)
    database = workdir / "catalog.sqlite3"
    assert _rows(database, "SELECT user_id, track_id FROM plays") == [(user_id, 3)]
    (event_id, payload, published_at), *others = _rows(
        database, "SELECT id, json_extract(payload, '$.event_id'), published_at FROM outbox"
    )
    assert others == []
    assert published_at is None
    assert str(payload).replace("-", "") == str(event_id) == first.json()["event_id"].replace("-", "")
