"""Fixtures for the catalog: one seeded PostgreSQL schema per session (read mostly), keys, apps, clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from catalog.seed import seed_postgres
from catalog.service import create_app
from catalog.tokens import SigningKey, TokenIssuer, generate_key
from tests.catalog.support import SMALL, Seeded, serve, settings_for
from tests.support.isolation import temporary_schema
from tests.support.migrations import upgrade


@pytest.fixture(scope="session")
def seeded(database_url: str) -> Iterator[Seeded]:
    """The small catalogue, migrated to head and seeded with COPY, shared by the session's tests.

    Tests that write create their own playlists, so they never change what another test reads.
    """
    with temporary_schema(database_url) as schema:
        upgrade("catalog", database_url, schema)
        seed_postgres(database_url, schema, SMALL)
        yield Seeded(database_url, schema, SMALL)


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_key("EdDSA")


@pytest.fixture(scope="session")
def issuer(signing_key: SigningKey) -> TokenIssuer:
    return TokenIssuer(signing_key)


@pytest.fixture
async def client(seeded: Seeded, signing_key: SigningKey) -> AsyncIterator[httpx.AsyncClient]:
    """The catalog on the seeded schema with an in-memory cache."""
    async with serve(create_app(settings_for(seeded, signing_key))) as http:
        yield http
