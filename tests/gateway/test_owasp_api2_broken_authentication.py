"""OWASP API2:2023 Broken Authentication, at the gateway's HTTP surface.

Expired, unsigned (``alg: none``), tampered and foreign-key tokens get 401 with ``WWW-Authenticate``; a
refresh token works once (rotation) and replaying a spent one revokes its whole family; logout revokes.
"""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest
from fastapi import FastAPI

from gateway.keys import generate_key
from tests.gateway.conftest import add_user, login, state_of

pytestmark = pytest.mark.integration

App = tuple[FastAPI, httpx.AsyncClient]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})


async def test_an_expired_access_token_is_refused_with_401(embedded_app: App) -> None:
    app, client = embedded_app
    user_id = await add_user(app, "alice")
    tokens = state_of(app).tokens
    expired = tokens.issue(user_id, ("catalog:read",), now=time.time() - tokens.ttl_s - 1)
    response = await _me(client, expired)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert "expired" in response.json()["error"]["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_unsigned_tampered_and_foreign_tokens_are_refused(embedded_app: App) -> None:
    """alg none, a payload rewritten to claim admin, and a token signed by a key outside the ring: all 401."""
    app, client = embedded_app
    await add_user(app, "bob")
    genuine = (await login(client, "bob")).json()["access_token"]
    header, payload, signature = genuine.split(".")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    admin_payload = _b64(json.dumps({**claims, "scope": "admin"}).encode())
    kid = jwt.get_unverified_header(genuine)["kid"]
    none_header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    outsider = generate_key()
    forged = {
        "alg_none": f"{none_header}.{payload}.",
        "tampered": f"{header}.{admin_payload}.{signature}",
        "foreign_key": jwt.encode(claims, outsider.private_key, "EdDSA", {"kid": outsider.kid}),
        "foreign_key_same_kid": jwt.encode(claims, outsider.private_key, "EdDSA", {"kid": kid}),
        "garbage": "not.a.jwt",
    }
    assert (await _me(client, genuine)).status_code == 200
    for name, token in forged.items():
        response = await _me(client, token)
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "invalid_token", name
    assert (
        await client.get("/admin/users", headers={"Authorization": f"Bearer {forged['tampered']}"})
    ).status_code == 401


async def test_a_missing_or_non_bearer_credential_is_refused(embedded_app: App) -> None:
    _, client = embedded_app
    assert (await client.get("/users/me")).status_code == 401
    basic = await client.get("/users/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert basic.status_code == 401
    assert basic.json()["error"]["code"] == "missing_token"


async def test_a_replayed_refresh_token_revokes_the_family_and_logout_revokes_too(embedded_app: App) -> None:
    app, client = embedded_app
    await add_user(app, "carol")
    stolen = (await login(client, "carol")).json()["refresh_token"]
    rotated = await client.post("/auth/refresh", data={"refresh_token": stolen})
    assert rotated.status_code == 200
    replay = await client.post("/auth/refresh", data={"refresh_token": stolen})
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "invalid_grant"
    victim = await client.post("/auth/refresh", data={"refresh_token": rotated.json()["refresh_token"]})
    assert victim.status_code == 400  # the whole family died with the replay
    fresh = (await login(client, "carol")).json()["refresh_token"]
    assert (await client.post("/auth/logout", data={"refresh_token": fresh})).status_code == 204
    assert (await client.post("/auth/refresh", data={"refresh_token": fresh})).status_code == 400
