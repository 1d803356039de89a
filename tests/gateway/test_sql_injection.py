"""SQL injection: a string-formatted query falls to the classic payloads; the gateway's endpoints do not.

``vulnerable_lookup`` below is deliberately wrong and lives only in this test: it formats the username into
the SQL text, against the gateway's real ``users`` table in a PostgreSQL schema of the test's own. There
``' OR '1'='1`` dumps every account, and a ``UNION`` that supplies a password hash of the attacker's choosing
logs in as anyone, argon2id or not: hashing passwords does not help when the attacker writes the row being
checked. The same payloads sent to the real endpoints (login, refresh, logout, sign-up, and the catalog's
lookups behind the gateway) get the ordinary 4xx and leak nothing, because every statement the services send
binds its values as parameters (SQLAlchemy) and never builds SQL text from input (OWASP API8:2023, injection).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from gateway import GatewaySettings, create_app
from gateway.keys import SigningKey
from gateway.passwords import Passwords
from tests.gateway.catalog_process import real_catalog
from tests.gateway.conftest import PASSWORD, add_user, login, running, sqlite_settings, state_of
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

ATTACKER_PASSWORD = "chosen-by-the-attacker"  # noqa: S105 - the point of the UNION payload
TAUTOLOGY = "' OR '1'='1"
PAYLOADS = [
    TAUTOLOGY,
    "' OR '1'='1' --",
    "alice' --",
    "' UNION SELECT id, username, password_hash FROM users --",
    "'; DROP TABLE users; --",
    "alice' AND pg_sleep(2) IS NULL --",
]


async def vulnerable_lookup(connection: asyncpg.Connection, username: str) -> list[asyncpg.Record]:
    """DELIBERATELY VULNERABLE, test only: the username is formatted into the SQL text."""
    sql = f"SELECT id, username, password_hash FROM users WHERE username = '{username}'"  # noqa: S608 - the bug on show
    return await connection.fetch(sql)


async def vulnerable_login(
    connection: asyncpg.Connection, passwords: Passwords, username: str, password: str
) -> int | None:
    """Look the user up (vulnerably), then verify the password against the hash that came back."""
    rows = await vulnerable_lookup(connection, username)
    if not rows:
        return None
    ok, _ = passwords.verify(password, rows[0]["password_hash"])
    return int(rows[0]["id"]) if ok else None


@pytest.fixture
async def gateway(pg_settings: GatewaySettings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real gateway (PostgreSQL + Redis) with alice and bob; login limits above this module's needs."""
    app = create_app(pg_settings.model_copy(update={"login_per_ip": 100, "login_per_account": 100}))
    async with running(app) as client:
        await add_user(app, "alice")
        await add_user(app, "bob")
        yield app, client


@pytest.fixture
async def raw(
    gateway: tuple[FastAPI, httpx.AsyncClient], database_url: str, pg_schema: str
) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the same schema, for the vulnerable code path."""
    connection = await asyncpg.connect(database_url, server_settings={"search_path": pg_schema})
    yield connection
    await connection.close()


async def test_a_string_formatted_query_dumps_every_account_for_a_tautology(
    raw: asyncpg.Connection,
) -> None:
    assert await vulnerable_lookup(raw, "nobody") == []
    rows = await vulnerable_lookup(raw, TAUTOLOGY)
    assert sorted(r["username"] for r in rows) == ["alice", "bob"]
    assert all(r["password_hash"].startswith("$argon2id$") for r in rows)  # the hashes leak too


async def test_a_string_formatted_query_lets_a_union_log_in_as_alice_with_any_password(
    gateway: tuple[FastAPI, httpx.AsyncClient], raw: asyncpg.Connection
) -> None:
    """argon2id does not help: the attacker supplies the hash the password is checked against."""
    app, _ = gateway
    passwords = state_of(app).passwords
    alice_id = (await state_of(app).store.user_by_name("alice")).id  # type: ignore[union-attr]
    forged = passwords.hash(ATTACKER_PASSWORD)
    payload = f"nobody' UNION SELECT {alice_id}, 'alice', '{forged}' --"
    assert await vulnerable_login(raw, passwords, "alice", ATTACKER_PASSWORD) is None  # honest path
    assert await vulnerable_login(raw, passwords, payload, ATTACKER_PASSWORD) == alice_id


async def test_the_same_lookup_with_a_bound_parameter_finds_nothing(raw: asyncpg.Connection) -> None:
    """The fix, in the same table: the payload is compared as a value, never parsed as SQL."""
    for payload in PAYLOADS:
        rows = await raw.fetch("SELECT id FROM users WHERE username = $1", payload)
        assert rows == [], payload


async def test_the_token_endpoint_answers_an_injected_username_like_any_unknown_one(
    gateway: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = gateway
    unknown = await login(client, "nobody", "whatever")
    assert unknown.status_code == 400
    for payload in PAYLOADS:
        injected = await login(client, payload, "whatever")
        assert injected.status_code == 400, payload
        assert injected.json()["error"]["code"] == unknown.json()["error"]["code"] == "invalid_grant"
        assert injected.json()["error"]["message"] == unknown.json()["error"]["message"]
        assert "access_token" not in injected.text
        for leak in ("alice", "bob", "$argon2", "syntax error", "SELECT"):
            assert leak not in injected.text, (payload, leak)


async def test_an_injected_password_does_not_log_in_and_the_table_survives(
    gateway: tuple[FastAPI, httpx.AsyncClient], raw: asyncpg.Connection
) -> None:
    _, client = gateway
    statuses = [(await login(client, "alice", payload)).status_code for payload in PAYLOADS]
    assert statuses == [400] * len(PAYLOADS)
    assert await raw.fetchval("SELECT count(*) FROM users") == 2  # the DROP TABLE payload did nothing
    assert (await login(client, "alice", PASSWORD)).status_code == 200


async def test_an_injected_refresh_token_or_logout_revokes_nothing(
    gateway: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """A vulnerable ``UPDATE ... WHERE token = '<payload>'`` would revoke every session; ours touches none."""
    _, client = gateway
    refresh = (await login(client, "alice")).json()["refresh_token"]
    for payload in PAYLOADS:
        rotated = await client.post(
            "/auth/refresh", data={"grant_type": "refresh_token", "refresh_token": payload}
        )
        assert rotated.status_code == 400
        assert rotated.json()["error"]["code"] == "invalid_grant"
        assert (await client.post("/auth/logout", data={"refresh_token": payload})).status_code == 204
    still_valid = await client.post(
        "/auth/refresh", data={"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert still_valid.status_code == 200


async def test_sign_up_refuses_an_injected_username_and_stores_an_injected_password_as_a_hash(
    gateway: tuple[FastAPI, httpx.AsyncClient], raw: asyncpg.Connection
) -> None:
    _, client = gateway
    refused = [
        (await client.post("/users", json={"username": p, "password": PASSWORD})).status_code
        for p in PAYLOADS
    ]
    assert refused == [422] * len(PAYLOADS)  # the username pattern admits no quotes, spaces or dashes-dashes
    weird_password = TAUTOLOGY + " --  long enough"
    created = await client.post("/users", json={"username": "carol", "password": weird_password})
    assert created.status_code == 201
    stored = await raw.fetchval("SELECT password_hash FROM users WHERE username = $1", "carol")
    assert stored.startswith("$argon2id$")
    assert weird_password not in stored
    assert (await login(client, "carol", weird_password)).status_code == 200
    assert (await login(client, "carol", TAUTOLOGY)).status_code == 400


@pytest.fixture(scope="module")
def catalog_url(tmp_path_factory: pytest.TempPathFactory, signing_key: SigningKey) -> Iterator[str]:
    with real_catalog(tmp_path_factory.mktemp("catalog"), signing_key) as url:
        yield url


async def test_the_catalogs_text_inputs_behind_the_gateway_take_payloads_as_plain_values(
    tmp_path: Path, signing_key: SigningKey, catalog_url: str
) -> None:
    """A payload as a path id or a cursor is a 4xx; as a playlist name it is stored and read back verbatim."""
    unused = f"http://127.0.0.1:{free_port()}"
    app = create_app(sqlite_settings(tmp_path, signing_key, catalog_url=catalog_url, recommender_url=unused))
    async with running(app) as client:
        await add_user(app, "dora")
        token = (await login(client, "dora")).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        as_id = await asyncio.gather(
            *(client.get(f"/catalog/v2/playlists/{quote(p, safe='')}", headers=auth) for p in PAYLOADS)
        )
        as_cursor = await asyncio.gather(
            *(client.get("/catalog/v2/tracks", params={"cursor": p}, headers=auth) for p in PAYLOADS)
        )
        name = "'); DROP TABLE playlists; --"
        created = await client.post(
            "/catalog/v2/playlists", headers=auth, json={"name": name, "is_public": False}
        )
        assert created.status_code == 201, created.text
        read_back = await client.get(f"/catalog/v2/playlists/{created.json()['id']}", headers=auth)
        tracks = await client.get("/catalog/v2/tracks", headers=auth)
    assert all(400 <= r.status_code < 500 for r in as_id), [r.status_code for r in as_id]
    assert all(r.status_code == 400 for r in as_cursor), [r.status_code for r in as_cursor]
    assert read_back.json()["name"] == name
    assert tracks.status_code == 200  # nothing was dropped
