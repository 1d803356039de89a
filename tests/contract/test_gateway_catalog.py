"""Contract: what the gateway sends to the catalog and expects back, against the catalog's own OpenAPI schema.

The gateway forwards ``/catalog/{path}`` to ``/{path}`` with the caller's token, refusing the catalog's
operational routes. So: every public catalog operation must be reachable unchanged and with a method the
gateway forwards, no operational one may be, the token the gateway mints must be one the catalog accepts
(issuer, audience, scopes), and a real answer the gateway passes on must match the catalog's documented body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from catalog.service import create_app as create_catalog
from catalog.settings import CatalogSettings
from gateway.keys import KeyRing, SigningKey, generate_key
from gateway.proxy import INTERNAL_SEGMENTS, METHODS, SCOPES, checked_path
from gateway.routing import CATALOG
from gateway.settings import AUDIENCES, ISSUER, USER_SCOPES
from gateway.tokens import AccessTokens
from observability import ApiError
from tests.contract.openapi import Document, assert_valid, parameter, response_schema

pytestmark = pytest.mark.contract


def catalog_settings(tmp_path: Path, key: SigningKey) -> CatalogSettings:
    return CatalogSettings(
        mode="embedded",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'catalog.sqlite3'}",
        redis_url=None,
        jwt_public_key=SecretStr(key.public_pem()),
        cursor_secret=SecretStr("contract-cursor-secret"),
        embedded_seed_tracks=30,
        embedded_seed_playlists=3,
    )


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_key("EdDSA")


@pytest.fixture(scope="module")
def catalog_doc(tmp_path_factory: pytest.TempPathFactory, key: SigningKey) -> Document:
    doc: Document = create_catalog(catalog_settings(tmp_path_factory.mktemp("doc"), key)).openapi()
    return doc


def public(path: str) -> bool:
    return path.strip("/").split("/")[0] not in INTERNAL_SEGMENTS


def test_every_public_catalog_operation_is_forwarded_unchanged_with_a_method_the_gateway_sends(
    catalog_doc: Document,
) -> None:
    operations = [(p, m) for p, ops in catalog_doc["paths"].items() for m in ops if public(p)]
    assert len(operations) >= 8  # v1 and v2 reads, the v2 writes
    for path, method in operations:
        concrete = path.replace("{", "").replace("}", "")  # a template's placeholders as plain segments
        assert checked_path(concrete.lstrip("/")) == concrete, path
        assert method.upper() in METHODS, (method, path)


def test_no_operational_catalog_route_is_reachable_through_the_gateway(catalog_doc: Document) -> None:
    # the undocumented ones too: probes, metrics, and the embedded-mode token minter (mounted without a key)
    documented = [p for p in catalog_doc["paths"] if not public(p)]
    internal = [*documented, "/metrics", "/healthz", "/readyz", "/openapi.json", "/docs", "/dev/token"]
    for path in internal:
        with pytest.raises(ApiError) as refused:
            checked_path(path.lstrip("/"))
        assert refused.value.status == 404


def test_the_integer_ids_the_catalog_declares_are_what_a_forwarded_path_carries(
    catalog_doc: Document,
) -> None:
    """The gateway passes ids on as path text; the catalog's schema types them (a bad id is its 422)."""
    playlist_id = parameter(catalog_doc, "/v2/playlists/{playlist_id}", "get", "playlist_id", "path")
    assert playlist_id["schema"]["type"] == "integer"
    limit = parameter(catalog_doc, "/v2/tracks", "get", "limit", "query")
    assert limit["schema"]["type"] == "integer"


def test_the_scopes_the_gateway_checks_are_the_ones_it_grants_and_the_catalog_requires() -> None:
    read, write = SCOPES[CATALOG]
    assert {read, write} <= set(USER_SCOPES)
    assert CatalogSettings().write_scope == write
    assert CatalogSettings().jwt_issuer == ISSUER
    assert CatalogSettings().jwt_audience in AUDIENCES


@pytest.fixture
async def catalog(tmp_path: Path, key: SigningKey) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_catalog(catalog_settings(tmp_path, key))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://catalog") as client,
    ):
        yield app, client


async def test_a_gateway_token_is_accepted_and_the_answers_match_the_catalogs_schema(
    catalog: tuple[FastAPI, httpx.AsyncClient], catalog_doc: Document, key: SigningKey
) -> None:
    """Recorded real answers to what the gateway forwards, validated with jsonschema against the document."""
    _, client = catalog
    tokens = AccessTokens(KeyRing(key, ()), ISSUER, AUDIENCES, ttl_s=300)
    auth = {"Authorization": f"Bearer {tokens.issue(1, USER_SCOPES)}"}
    recorded: list[tuple[str, str, int, httpx.Response]] = []
    page = await client.get("/v2/tracks", params={"limit": 5}, headers=auth)
    recorded.append(("/v2/tracks", "get", 200, page))
    created = await client.post("/v2/playlists", json={"name": "contract", "is_public": False}, headers=auth)
    recorded.append(("/v2/playlists", "post", 201, created))
    playlist = await client.get(f"/v2/playlists/{created.json()['id']}", headers=auth)
    recorded.append(("/v2/playlists/{playlist_id}", "get", 200, playlist))
    for path, method, status, response in recorded:
        assert response.status_code == status, (path, response.text)
        body: Any = response.json()
        assert_valid(catalog_doc, response_schema(catalog_doc, path, method, status), body)
    unauthenticated = await client.get("/v2/tracks")
    assert unauthenticated.status_code == 401  # the catalog checks the forwarded token itself
