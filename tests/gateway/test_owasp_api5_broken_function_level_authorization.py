"""OWASP API5:2023 Broken Function Level Authorization: admin functions need the admin scope.

Scopes are checked per route at the gateway: ``/admin/*`` needs ``admin``, writes through ``/catalog`` need
``catalog:write``. A user cannot ask for a scope they were not granted, and an admin who logged in with
narrowed scopes cannot use admin functions with that token.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import add_user, login, running, sqlite_settings
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def _auth(response: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_admin_routes_refuse_users_and_anonymous_callers_and_admit_admins(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    app = create_app(sqlite_settings(tmp_path, signing_key))
    async with running(app) as client:
        await add_user(app, "ivan")
        await add_user(app, "root", admin=True)
        user = _auth(await login(client, "ivan"))
        admin = _auth(await login(client, "root"))
        narrowed = _auth(await login(client, "root", scope="catalog:read"))
        escalation = await login(client, "ivan", scope="admin")
        anonymous = await client.get("/admin/users")
        as_user = await client.get("/admin/users", headers=user)
        as_narrowed = await client.get("/admin/users", headers=narrowed)
        as_admin = await client.get("/admin/users", headers=admin)
    assert anonymous.status_code == 401
    assert as_user.status_code == as_narrowed.status_code == 403
    assert as_user.json()["error"]["code"] == "insufficient_scope"
    assert 'scope="admin"' in as_user.headers["www-authenticate"]
    assert escalation.status_code == 400
    assert escalation.json()["error"]["code"] == "invalid_scope"
    assert as_admin.status_code == 200


async def test_a_read_only_token_cannot_call_write_functions_through_the_gateway(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    """403 at the edge, before any downstream is called (nothing listens on the downstream ports)."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = sqlite_settings(tmp_path, signing_key, catalog_url=nowhere, recommender_url=nowhere)
    app = create_app(settings)
    async with running(app) as client:
        await add_user(app, "reader")
        reader = _auth(await login(client, "reader", scope="catalog:read"))
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = await client.request(method, "/catalog/v2/playlists", headers=reader, json={})
            assert response.status_code == 403, method
            assert response.json()["error"]["code"] == "insufficient_scope"
