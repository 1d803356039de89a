"""Fixtures for the gateway: signing keys, settings on PostgreSQL+Redis or SQLite, a running app, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from gateway import GatewaySettings, create_app
from gateway.deps import GatewayState
from gateway.keys import SigningKey, generate_key, private_pem
from gateway.settings import ADMIN_SCOPE, USER_SCOPES
from tests.support.migrations import upgrade

BASE_URL = "http://localhost"
PASSWORD = "correct horse battery staple"  # noqa: S105 - the tests' own throwaway password
# still argon2id, at the floor cost: the tests are about the flows, not the hash's strength
CHEAP_ARGON2: dict[str, Any] = {"argon2_memory_kib": 7168, "argon2_time_cost": 1, "argon2_parallelism": 1}


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_key("EdDSA")


def sqlite_settings(tmp_path: Path, key: SigningKey, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "mode": "embedded",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}",
        "redis_url": None,
        "jwt_private_key": private_pem(key),
        **CHEAP_ARGON2,
        **overrides,
    }
    return GatewaySettings(**values)


@pytest.fixture
def embedded_settings(tmp_path: Path, signing_key: SigningKey) -> GatewaySettings:
    return sqlite_settings(tmp_path, signing_key)


@pytest.fixture
def pg_settings(
    database_url: str, pg_schema: str, redis_url: str, redis_prefix: str, signing_key: SigningKey
) -> GatewaySettings:
    """Services mode on the shared PostgreSQL (own schema, migrated) and Redis (own key prefix)."""
    upgrade("gateway", database_url, pg_schema)
    return GatewaySettings(
        mode="services",
        database_url=database_url,
        schema_name=pg_schema,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        jwt_private_key=SecretStr(private_pem(signing_key)),
        login_per_account=5,
        login_per_ip=8,
        **CHEAP_ARGON2,
    )


def state_of(app: FastAPI) -> GatewayState:
    state: GatewayState = app.state.gateway
    return state


async def add_user(app: FastAPI, username: str, *, admin: bool = False) -> int:
    scopes = (*USER_SCOPES, ADMIN_SCOPE) if admin else USER_SCOPES
    state = state_of(app)
    return await state.store.create_user(username, state.passwords.hash(PASSWORD), scopes)


def running(app: FastAPI) -> Any:
    """The app's lifespan around an httpx client that talks to it in process."""

    class Running:
        async def __aenter__(self) -> httpx.AsyncClient:
            self._lifespan = app.router.lifespan_context(app)
            await self._lifespan.__aenter__()
            self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
            return self._client

        async def __aexit__(self, *exc: object) -> None:
            await self._client.aclose()
            await self._lifespan.__aexit__(None, None, None)

    return Running()


@pytest.fixture
async def pg_app(pg_settings: GatewaySettings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(pg_settings)
    async with running(app) as client:
        yield app, client


@pytest.fixture
async def embedded_app(
    embedded_settings: GatewaySettings,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(embedded_settings)
    async with running(app) as client:
        yield app, client


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    data = {"grant_type": "password", "username": username, "password": password, **extra}
    return await client.post("/auth/token", data=data)
