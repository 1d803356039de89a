"""OWASP API3:2023 Broken Object Property Level Authorization: no mass assignment, no excessive exposure.

Input models forbid unknown fields (``extra="forbid"``), so a client cannot bind properties it must not set
(scopes, id, a password hash); output models name exactly what a client may see, so the password hash and
internal columns never leave the service.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.gateway.conftest import PASSWORD, add_user, login

pytestmark = pytest.mark.integration

App = tuple[FastAPI, httpx.AsyncClient]
USER_FIELDS = {"id", "username", "scopes"}


@pytest.mark.parametrize(
    "extra",
    [{"scopes": ["admin"]}, {"id": 1}, {"password_hash": "$argon2id$..."}, {"is_admin": True}],
    ids=["scopes", "id", "password_hash", "is_admin"],
)
async def test_sign_up_refuses_every_property_a_client_must_not_set(
    embedded_app: App, extra: dict[str, object]
) -> None:
    _, client = embedded_app
    response = await client.post("/users", json={"username": "mallory", "password": PASSWORD, **extra})
    assert response.status_code == 422
    assert next(iter(extra)) in response.json()["error"]["message"]
    assert (await login(client, "mallory")).status_code == 400  # nothing was created


async def test_the_token_form_refuses_unknown_fields(embedded_app: App) -> None:
    app, client = embedded_app
    await add_user(app, "nina")
    response = await login(client, "nina", user_id="1", scopes="admin")
    assert response.status_code == 422


async def test_user_documents_expose_no_password_hash_or_internal_fields(embedded_app: App) -> None:
    """Sign-up, /users/me and the admin listing answer with the declared fields only."""
    app, client = embedded_app
    await add_user(app, "root", admin=True)
    created = await client.post("/users", json={"username": "olga", "password": PASSWORD})
    assert created.status_code == 201
    assert set(created.json()) == USER_FIELDS
    assert created.json()["scopes"] == ["catalog:read", "catalog:write", "recommendations:read"]
    token = (await login(client, "root")).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    me = await client.get("/users/me", headers=auth)
    listing = await client.get("/admin/users", headers=auth)
    assert set(me.json()) == {"id", "scopes"}
    assert listing.status_code == 200
    assert all(set(user) == USER_FIELDS for user in listing.json())
    for response in (created, me, listing):
        assert "argon2" not in response.text
        assert "password" not in response.text
        assert PASSWORD not in response.text
