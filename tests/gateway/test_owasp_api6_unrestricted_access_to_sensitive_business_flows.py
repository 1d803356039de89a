"""OWASP API6:2023 Unrestricted Access to Sensitive Business Flows: sign-up and login cannot be automated.

Account creation (its own per-IP policy) and login (per client IP and per account name) are charged to
``ratelimit`` limits, so one address cannot mass-create accounts or spray passwords, and rotating addresses
(through a trusted proxy) does not reset the per-account limit. ``X-Forwarded-For`` from an untrusted peer
is ignored.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import PASSWORD, add_user, login, running, sqlite_settings

pytestmark = pytest.mark.integration


async def test_one_address_cannot_mass_create_accounts(tmp_path: Path, signing_key: SigningKey) -> None:
    app = create_app(sqlite_settings(tmp_path, signing_key, signup_per_ip=4))
    async with running(app) as client:
        statuses = [
            (await client.post("/users", json={"username": f"bot{i}", "password": PASSWORD})).status_code
            for i in range(5)
        ]
    assert statuses == [201] * 4 + [429]


async def test_a_spoofed_forwarded_for_does_not_evade_the_per_address_limit(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    """No trusted proxies: each guess claims a new X-Forwarded-For, the peer address is still counted."""
    app = create_app(sqlite_settings(tmp_path, signing_key, login_per_ip=3))
    async with running(app) as client:
        statuses = [
            (
                await client.post(
                    "/auth/token",
                    data={"grant_type": "password", "username": f"victim{i}", "password": "Summer2025!"},
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                )
            ).status_code
            for i in range(4)
        ]
    assert statuses == [400, 400, 400, 429]


async def test_rotating_addresses_does_not_reset_the_per_account_limit(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    """Behind a trusted proxy each guess comes from another address; the account's limit still holds."""
    settings = sqlite_settings(tmp_path, signing_key, trusted_proxies=("127.0.0.1",), login_per_account=3)
    app = create_app(settings)
    async with running(app) as client:
        await add_user(app, "alice")
        statuses = []
        for i in range(4):
            client.headers["X-Forwarded-For"] = f"198.51.100.{i}"
            statuses.append((await login(client, "alice", "guess")).status_code)
        client.headers["X-Forwarded-For"] = "198.51.100.200"
        right_password = await login(client, "alice", PASSWORD)
    assert statuses == [400, 400, 400, 429]
    assert right_password.status_code == 429
    assert right_password.json()["error"]["code"] == "too_many_login_attempts"
