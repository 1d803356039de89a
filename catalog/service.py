"""The catalog service: ``create_app(settings)`` wires settings, databases, cache, auth and both API versions.

Nothing happens at import; ``create_app`` builds objects but connects to nothing (engines connect on first
use); the lifespan creates and seeds the SQLite tables in embedded mode, runs the hourly purge of expired
idempotency keys (``housekeeping.py``) and closes everything on shutdown.
Keys: a PEM (``CATALOG_JWT_PUBLIC_KEY``) or a JWKS URL (``CATALOG_JWKS_URL``). Without either, services mode
refuses to start (a verifier without keys would be a hole or an outage), while embedded mode (``make demo``
without PostgreSQL/Redis) generates an ephemeral Ed25519 keypair, logs a warning, and mounts
``POST /dev/token`` to mint tokens for it: that route exists in embedded mode only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from catalog import plays, v1, v2
from catalog.auth import JwksKeys, KeySource, StaticKey, TokenVerifier
from catalog.cursor import CursorCodec
from catalog.db import create_databases, create_tables, is_empty
from catalog.deps import MAX_ID, CatalogState, StateDep
from catalog.housekeeping import run_purges
from catalog.middleware import PrefixGZipMiddleware, QueryCountMiddleware
from catalog.rows import SeedSpec
from catalog.settings import CatalogSettings
from catalog.tokens import READ_WRITE, TokenIssuer, generate_key
from observability import ApiError, DependencyCheck, get_logger, instrument
from ratelimit.cache import Cache, MemoryCache, RedisCache

GZIP_MIN_BYTES = 1024
BEARER = "bearer"  # the OAuth 2.0 token type (RFC 6750), a name rather than a literal secret for linters


class MissingKeysError(RuntimeError):
    """Services mode without a way to verify tokens."""


def _keys(settings: CatalogSettings) -> tuple[KeySource, TokenIssuer | None, JwksKeys | None]:
    if settings.jwt_public_key is not None:
        return StaticKey(settings.jwt_public_key.get_secret_value()), None, None
    if settings.jwks_url:
        jwks = JwksKeys(settings.jwks_url, ttl_s=settings.jwks_cache_s)
        return jwks, None, jwks
    if not settings.embedded:
        raise MissingKeysError(
            "the catalog needs a token verification key: set CATALOG_JWKS_URL (the gateway's JWKS) or "
            "CATALOG_JWT_PUBLIC_KEY (a PEM public key); only embedded mode generates its own"
        )
    key = generate_key("EdDSA")
    get_logger("catalog").warning(
        "ephemeral_jwt_keys",
        detail="embedded mode: generated a throwaway keypair; POST /dev/token mints tokens",
    )
    issuer = TokenIssuer(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    return StaticKey(key.public_pem()), issuer, None


def build_state(settings: CatalogSettings) -> CatalogState:
    keys, dev_issuer, jwks = _keys(settings)
    redis = (
        None if settings.embedded or not settings.redis_url else aioredis.Redis.from_url(settings.redis_url)
    )
    cache: Cache = (
        RedisCache(redis, settings.redis_prefix, name="catalog") if redis else MemoryCache(name="catalog")
    )
    secret = settings.cursor_secret.get_secret_value().encode() if settings.cursor_secret else None
    if secret is None:
        get_logger("catalog").warning(
            "ephemeral_cursor_secret",
            detail="set CATALOG_CURSOR_SECRET so cursors survive restarts and workers",
        )
    verifier = TokenVerifier(
        keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience, algorithms=settings.jwt_algorithms
    )
    return CatalogState(
        settings=settings,
        databases=create_databases(settings),
        cache=cache,
        verifier=verifier,
        cursors=CursorCodec(secret),
        dev_issuer=dev_issuer,
        redis=redis,
        jwks=jwks,
    )


def _lifespan(state: CatalogState) -> Any:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settings = state.settings
        if settings.is_sqlite:
            await create_tables(state.databases.engines[0])
            if await is_empty(state.databases.v2):
                from catalog.seed import seed_sqlalchemy  # noqa: PLC0415 - embedded mode only; keeps -m catalog.seed clean

                spec = SeedSpec(
                    tracks=settings.embedded_seed_tracks,
                    playlists=settings.embedded_seed_playlists,
                    users=max(10, settings.embedded_seed_playlists // 3),
                    hero_every=50,
                    hero_size=200,
                    max_playlist=500,
                )
                await seed_sqlalchemy(state.databases.v2, spec)
        purges = (
            asyncio.create_task(run_purges(state.databases.v2, settings.idempotency_purge_interval_s))
            if settings.idempotency_purge_interval_s
            else None
        )
        try:
            yield
        finally:
            if purges is not None:
                purges.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purges
            await state.databases.dispose()
            if state.redis is not None:
                await state.redis.aclose()
            if state.jwks is not None:
                await state.jwks.aclose()

    return lifespan


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int = Field(ge=1, le=MAX_ID)
    scopes: tuple[str, ...] = READ_WRITE


def _add_dev_routes(app: FastAPI) -> None:
    @app.post("/dev/token", tags=["dev (embedded mode only)"])
    async def mint_token(body: TokenRequest, state: StateDep) -> dict[str, Any]:
        """A token for any user, signed with this process's ephemeral key. Exists in embedded mode only."""
        if state.dev_issuer is None:  # pragma: no cover - the route is only mounted with an issuer
            raise ApiError(404, "not_found", "no dev token issuer")
        token = state.dev_issuer.issue(body.user_id, scopes=body.scopes)
        return {"access_token": token, "token_type": BEARER, "expires_in": 900}


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()
    state = build_state(settings)
    app = FastAPI(title="catalog", version="2", lifespan=_lifespan(state))
    app.state.catalog = state

    @app.get("/", include_in_schema=False)
    async def home() -> dict[str, Any]:
        links = {"docs": "/docs", "v1": "/v1/tracks", "v2": "/v2/tracks"}
        if state.dev_issuer is not None:
            links["dev"] = 'POST /dev/token {"user_id": 1}'
        return {"service": "catalog", "mode": settings.mode, "links": links}

    app.include_router(v1.router)
    app.include_router(v2.router)
    app.include_router(plays.router)
    if state.dev_issuer is not None:
        _add_dev_routes(app)

    async def database() -> None:
        async with state.databases.v2() as session:
            await session.execute(text("SELECT 1"))

    async def cache() -> None:
        if state.redis is not None:
            await state.redis.ping()

    checks = [DependencyCheck("database", database)]
    if state.redis is not None:  # optional: without Redis the catalog computes every response (degraded)
        checks.append(DependencyCheck("cache", cache, required=False))
    app.add_middleware(PrefixGZipMiddleware, prefix="/v2/", minimum_size=GZIP_MIN_BYTES)
    app.add_middleware(QueryCountMiddleware)
    instrument(app, service="catalog", checks=checks)
    return app
