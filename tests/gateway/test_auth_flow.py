"""The token endpoints on real PostgreSQL and Redis: login, rotation, reuse detection, logout, throttling."""

from __future__ import annotations

import asyncio

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.gateway.conftest import PASSWORD, add_user, login

pytestmark = pytest.mark.integration

App = tuple[FastAPI, httpx.AsyncClient]


async def test_a_login_returns_a_bearer_token_and_a_refresh_token_never_cached(pg_app: App) -> None:
    app, client = pg_app
    user_id = await add_user(app, "alice")
    response = await login(client, "alice")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"  # noqa: S105 - the OAuth token type
    assert body["expires_in"] == 300
    assert response.headers["cache-control"] == "no-store"
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == user_id


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(pg_app: App) -> None:
    app, client = pg_app
    await add_user(app, "bob")
    wrong = await login(client, "bob", "not the password")
    unknown = await login(client, "nobody-here", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert wrong.json()["error"]["code"] == "invalid_grant"


async def test_refreshing_rotates_the_refresh_token(pg_app: App) -> None:
    app, client = pg_app
    await add_user(app, "carol")
    first = (await login(client, "carol")).json()["refresh_token"]
    response = await client.post("/auth/refresh", data={"refresh_token": first})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()["refresh_token"]
    assert second != first
    assert (await client.post("/auth/refresh", data={"refresh_token": second})).status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_its_whole_family(pg_app: App) -> None:
    """A thief replays the old token: both the thief's and the victim's newer tokens stop working."""
    app, client = pg_app
    await add_user(app, "dave")
    stolen = (await login(client, "dave")).json()["refresh_token"]
    newer = (await client.post("/auth/refresh", data={"refresh_token": stolen})).json()["refresh_token"]
    replay = await client.post("/auth/refresh", data={"refresh_token": stolen})
    assert replay.status_code == 400
    assert "reused" in replay.json()["error"]["message"]
    assert (await client.post("/auth/refresh", data={"refresh_token": newer})).status_code == 400


async def test_another_login_of_the_same_user_survives_a_reuse_in_another_family(pg_app: App) -> None:
    app, client = pg_app
    await add_user(app, "erin")
    laptop = (await login(client, "erin")).json()["refresh_token"]
    phone = (await login(client, "erin")).json()["refresh_token"]
    await client.post("/auth/refresh", data={"refresh_token": laptop})
    await client.post("/auth/refresh", data={"refresh_token": laptop})  # reuse: the laptop family dies
    assert (await client.post("/auth/refresh", data={"refresh_token": phone})).status_code == 200


async def test_two_concurrent_refreshes_with_one_token_yield_at_most_one_success(pg_app: App) -> None:
    app, client = pg_app
    await add_user(app, "frank")
    token = (await login(client, "frank")).json()["refresh_token"]
    results = await asyncio.gather(
        *(client.post("/auth/refresh", data={"refresh_token": token}) for _ in range(4))
    )
    assert sum(r.status_code == 200 for r in results) <= 1
    assert all(r.status_code in {200, 400} for r in results)


async def test_logout_revokes_the_refresh_token(pg_app: App) -> None:
    app, client = pg_app
    await add_user(app, "grace")
    token = (await login(client, "grace")).json()["refresh_token"]
    logout = await client.post("/auth/logout", data={"refresh_token": token})
    assert logout.status_code == 204
    assert (await client.post("/auth/refresh", data={"refresh_token": token})).status_code == 400
    unknown = await client.post("/auth/logout", data={"refresh_token": "never-issued"})
    assert unknown.status_code == 204


async def test_a_login_may_narrow_its_scopes_but_never_widen_them(pg_app: App) -> None:
    app, client = pg_app
    await add_user(app, "heidi")
    narrow = await login(client, "heidi", scope="catalog:read")
    assert narrow.json()["scope"] == "catalog:read"
    wide = await login(client, "heidi", scope="catalog:read admin")
    assert wide.status_code == 400
    assert wide.json()["error"]["code"] == "invalid_scope"


async def test_admin_routes_need_the_admin_scope(pg_app: App) -> None:
    app, client = pg_app
    await add_user(app, "ivan")
    await add_user(app, "root", admin=True)
    user = (await login(client, "ivan")).json()["access_token"]
    admin = (await login(client, "root")).json()["access_token"]
    refused = await client.get("/admin/users", headers={"Authorization": f"Bearer {user}"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"
    allowed = await client.get("/admin/users", headers={"Authorization": f"Bearer {admin}"})
    assert {u["username"] for u in allowed.json()} == {"ivan", "root"}
    assert (await client.get("/admin/users")).status_code == 401


async def test_the_sixth_login_for_one_account_within_the_period_is_throttled(pg_app: App) -> None:
    """Per account: 5 attempts per minute (pg_settings), whatever the password, then 429 with Retry-After."""
    app, client = pg_app
    await add_user(app, "judy")
    statuses = [(await login(client, "judy", "guess")).status_code for _ in range(5)]
    assert statuses == [400] * 5
    throttled = await login(client, "judy")  # even the right password waits now
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    assert throttled.json()["error"]["code"] == "too_many_login_attempts"


async def test_one_address_spraying_many_accounts_is_throttled(pg_app: App) -> None:
    """Per IP: 8 attempts per minute (pg_settings) across different accounts, then 429."""
    _, client = pg_app
    statuses = [(await login(client, f"victim{i}", "Summer2025!")).status_code for i in range(9)]
    assert statuses[:8] == [400] * 8
    assert statuses[8] == 429


async def test_jwks_serves_the_public_key_named_by_the_tokens_kid(pg_app: App) -> None:
    app, client = pg_app
    await add_user(app, "kim")
    access = (await login(client, "kim")).json()["access_token"]
    jwks = await client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    keys = jwks.json()["keys"]
    assert jwt.get_unverified_header(access)["kid"] in {k["kid"] for k in keys}
    assert all("d" not in k for k in keys)  # the private part never leaves
    assert PASSWORD not in jwks.text
