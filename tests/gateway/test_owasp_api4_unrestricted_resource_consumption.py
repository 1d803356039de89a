"""OWASP API4:2023 Unrestricted Resource Consumption: every request is bounded in size, rate and page size.

A body over ``max_bytes`` is refused with 413 before any parsing; logins are rate-limited before the costly
argon2 check; list endpoints cap their page size; over-long fields are refused before hashing.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.gateway.conftest import add_user, login, state_of

pytestmark = pytest.mark.integration

App = tuple[FastAPI, httpx.AsyncClient]


async def test_a_body_one_byte_over_the_limit_is_refused_and_one_at_it_is_parsed(embedded_app: App) -> None:
    app, client = embedded_app
    limit = state_of(app).settings.max_body_bytes
    headers = {"Content-Type": "application/json"}
    over = await client.post("/users", content=b" " * (limit + 1), headers=headers)
    at = await client.post("/users", content=b" " * limit, headers=headers)
    assert over.status_code == 413
    assert over.json()["error"]["code"] == "payload_too_large"
    assert at.status_code == 422  # parsed (and refused as empty JSON): the limit is exact


async def test_login_attempts_past_the_per_account_limit_get_429_before_any_password_check(
    embedded_app: App,
) -> None:
    app, client = embedded_app
    await add_user(app, "alice")
    allowed = state_of(app).settings.login_per_account
    statuses = [(await login(client, "alice", "wrong guess")).status_code for _ in range(allowed)]
    throttled = await login(client, "alice")
    assert statuses == [400] * allowed
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1


async def test_page_sizes_are_capped(embedded_app: App) -> None:
    app, client = embedded_app
    await add_user(app, "root", admin=True)
    token = (await login(client, "root")).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/admin/users?limit=100", headers=auth)).status_code == 200
    too_many = await client.get("/admin/users?limit=100000", headers=auth)
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "validation_error"


async def test_over_long_credentials_are_refused_before_hashing(embedded_app: App) -> None:
    """A 10 KiB password is under the body limit but over the field limit: 422, no argon2 work spent."""
    _, client = embedded_app
    long_password = await client.post("/users", json={"username": "bob", "password": "x" * 10_240})
    long_login = await login(client, "bob", "x" * 10_240)
    assert long_password.status_code == 422
    assert long_login.status_code == 422
