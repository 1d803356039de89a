"""Sign-up has its own per-address limit, apart from login's: neither flow can use up the other's allowance.

Before, a sign-up was charged to login's per-IP and per-account limits: a burst of sign-ups from an office
NAT locked everyone behind it out of logging in, and signing up as ``alice`` (a 409) spent alice's login
attempts. Now account creation is throttled on its own (``signup_per_ip`` per ``signup_period_s``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import GatewaySettings, create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import PASSWORD, add_user, login, running, sqlite_settings

pytestmark = pytest.mark.integration


def sign_up_body(name: str) -> dict[str, str]:
    return {"username": name, "password": PASSWORD}


async def test_sign_ups_past_their_own_limit_are_429_while_login_still_works(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    app = create_app(sqlite_settings(tmp_path, signing_key, signup_per_ip=3, login_per_ip=20))
    async with running(app) as client:
        created = [(await client.post("/users", json=sign_up_body(f"new{i}"))).status_code for i in range(4)]
        refused = await client.post("/users", json=sign_up_body("new9"))
        logged_in = await login(client, "new0")
    assert created == [201, 201, 201, 429]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_sign_ups"
    assert int(refused.headers["retry-after"]) >= 1
    assert logged_in.status_code == 200


async def test_sign_ups_do_not_spend_the_addresses_login_attempts(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    """Five sign-ups under a login limit of two per address: both logins afterwards still get through."""
    app = create_app(sqlite_settings(tmp_path, signing_key, signup_per_ip=10, login_per_ip=2))
    async with running(app) as client:
        created = [(await client.post("/users", json=sign_up_body(f"team{i}"))).status_code for i in range(5)]
        logins = [(await login(client, f"team{i}")).status_code for i in range(2)]
    assert created == [201] * 5
    assert logins == [200, 200]


async def test_signing_up_with_a_taken_name_does_not_spend_that_accounts_login_attempts(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    app = create_app(sqlite_settings(tmp_path, signing_key, login_per_account=2))
    async with running(app) as client:
        await add_user(app, "alice")
        squatting = [(await client.post("/users", json=sign_up_body("alice"))).status_code for _ in range(3)]
        alice = await login(client, "alice")
    assert squatting == [409, 409, 409]
    assert alice.status_code == 200


async def test_the_sign_up_limit_is_shared_through_redis_by_every_gateway_process(
    pg_settings: GatewaySettings,
) -> None:
    """Services mode: two gateway apps on one Redis see one allowance, not one each."""
    settings = pg_settings.model_copy(update={"signup_per_ip": 2})
    first, second = create_app(settings), create_app(settings)
    async with running(first) as one, running(second) as two:
        statuses = [
            (await one.post("/users", json=sign_up_body("pat0"))).status_code,
            (await two.post("/users", json=sign_up_body("pat1"))).status_code,
            (await one.post("/users", json=sign_up_body("pat2"))).status_code,
            (await two.post("/users", json=sign_up_body("pat3"))).status_code,
        ]
    assert statuses == [201, 201, 429, 429]
