"""Helpers for the catalog tests: a seeded schema, an app on it, an ASGI client, tokens, query counting."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from catalog.db import Databases
from catalog.deps import CatalogState
from catalog.rows import SeedSpec
from catalog.settings import CatalogSettings
from catalog.tokens import SigningKey, TokenIssuer

# small but with every shape: short playlists, "hero" playlists of 300 tracks, a 600-track one
SMALL = SeedSpec(tracks=3000, playlists=120, users=40, hero_every=20, hero_size=300, max_playlist=600)
CURSOR_SECRET = "test-cursor-secret"  # noqa: S105 - a throwaway secret for tests


@dataclass(frozen=True)
class Seeded:
    database_url: str
    schema: str
    spec: SeedSpec


def settings_for(seeded: Seeded, key: SigningKey, **overrides: Any) -> CatalogSettings:
    values: dict[str, Any] = {
        "mode": "services",
        "database_url": seeded.database_url,
        "schema_name": seeded.schema,
        "redis_url": None,
        "jwt_public_key": key.public_pem(),
        "cursor_secret": CURSOR_SECRET,
        **overrides,
    }
    return CatalogSettings(**values)


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, behind an in-process ASGI client."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://catalog") as client,
    ):
        yield client


def bearer(issuer: TokenIssuer, user_id: int, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.issue(user_id, **kwargs)}"}


class Statements:
    """Counts what the app's engines send, through SQLAlchemy's ``before_cursor_execute`` event."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        self.count += 1


@contextlib.contextmanager
def counting(app: FastAPI) -> Iterator[Statements]:
    state: CatalogState = app.state.catalog
    databases: Databases = state.databases
    statements = Statements()
    engines = {id(e): e for e in databases.engines}.values()
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", statements)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", statements)


def fetch(seeded: Seeded, query: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows straight from PostgreSQL, to choose test subjects (a private playlist, a big library...)."""
    import psycopg  # noqa: PLC0415 - only the integration tests need it

    with psycopg.connect(seeded.database_url) as conn:
        conn.execute(f"SET search_path TO {seeded.schema}")
        return conn.execute(query.encode(), params).fetchall()  # bytes: psycopg takes our literal SQL as is
