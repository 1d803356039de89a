"""OWASP API9:2023 Improper Inventory Management: only the intended surface is public.

The downstreams' operational endpoints (metrics, probes, docs, the embedded-mode ``/dev`` helpers) are refused
by the gateway without a call, and the gateway's OpenAPI document lists exactly the routes meant to be public.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import add_user, login, running, sqlite_settings
from tests.gateway.fakes import FakeService

pytestmark = pytest.mark.integration

INTERNAL = ("metrics", "healthz", "readyz", "dev/token", "docs", "redoc", "openapi.json")
PUBLIC_PATHS = {
    "/auth/token",
    "/auth/refresh",
    "/auth/logout",
    "/.well-known/jwks.json",
    "/users",
    "/users/me",
    "/admin/users",
    "/catalog/{path}",
    "/recommendations/{path}",
}


@pytest.fixture
async def downstream() -> AsyncIterator[FakeService]:
    fake = FakeService()
    await fake.start()
    yield fake
    await fake.stop()


async def test_downstream_operational_endpoints_are_not_reachable_through_the_gateway(
    tmp_path: Path, signing_key: SigningKey, downstream: FakeService
) -> None:
    settings = sqlite_settings(
        tmp_path, signing_key, catalog_url=downstream.url, recommender_url=downstream.url
    )
    app = create_app(settings)
    async with running(app) as client:
        await add_user(app, "ada")
        token = (await login(client, "ada")).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        for prefix in ("catalog", "recommendations"):
            for internal in INTERNAL:
                response = await client.get(f"/{prefix}/{internal}", headers=auth)
                assert response.status_code == 404, f"{prefix}/{internal}"
    assert [seen.path for seen in downstream.seen if seen.path != "/popular"] == []


async def test_the_openapi_document_lists_only_the_intended_routes(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    app = create_app(sqlite_settings(tmp_path, signing_key))
    async with running(app) as client:
        schema = (await client.get("/openapi.json")).json()
    assert set(schema["paths"]) == PUBLIC_PATHS
    operation_ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))  # one id per operation: a valid document
