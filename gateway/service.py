"""The gateway service: ``create_app(settings)`` wires keys, database, throttle, middleware, routes.

Nothing connects at import or in ``create_app`` (engines and Redis connect on first use); the lifespan creates
the SQLite tables in embedded mode and closes everything on shutdown. Secrets only from the environment: in
services mode the gateway refuses to start without ``GATEWAY_JWT_PRIVATE_KEY``; embedded mode (``make demo``
without PostgreSQL/Redis) generates an ephemeral Ed25519 key and says so in a warning, since every token it
signs dies with the process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from gateway import auth, proxy
from gateway.bruteforce import LoginThrottle, SignUpThrottle
from gateway.db import create_engine, create_tables, sessionmaker
from gateway.deps import GatewayState
from gateway.edge import BodySizeLimitMiddleware, wrap_outermost
from gateway.keys import KeyRing, generate_key, load_keys
from gateway.passwords import Passwords
from gateway.routing import open_routing
from gateway.settings import GatewaySettings
from gateway.store import Store
from gateway.tokens import AccessTokens
from observability import DependencyCheck, get_logger, instrument
from ratelimit import Limit, TrustedProxies, client_ip, create_limiter, redis_client


class MissingSecretsError(RuntimeError):
    """Services mode without a signing key."""


def key_ring(settings: GatewaySettings) -> KeyRing:
    previous = (
        tuple(load_keys(settings.jwt_previous_keys.get_secret_value())) if settings.jwt_previous_keys else ()
    )
    if settings.jwt_private_key is not None:
        return KeyRing(load_keys(settings.jwt_private_key.get_secret_value())[0], previous)
    if not settings.embedded:
        raise MissingSecretsError(
            "the gateway needs a signing key: set GATEWAY_JWT_PRIVATE_KEY (an Ed25519 or RSA PEM private "
            "key); "
            "only embedded mode (BACKEND_ANSWERS_MODE=embedded) generates a throwaway one"
        )
    get_logger("gateway").warning(
        "ephemeral_jwt_keys",
        detail="embedded mode: generated a throwaway signing key; tokens die with the process",
    )
    return KeyRing(generate_key("EdDSA"), previous)


def build_state(settings: GatewaySettings) -> GatewayState:
    ring = key_ring(settings)
    tokens = AccessTokens(ring, settings.jwt_issuer, settings.jwt_audiences, settings.access_ttl_s)
    engine = create_engine(settings)
    redis = None if settings.embedded or not settings.redis_url else redis_client(settings.redis_url)
    if redis is None and not settings.embedded:
        get_logger("gateway").warning("no_redis", detail="login limits are per process without REDIS_URL")
    prefix = f"{settings.redis_prefix}rl:"
    period = settings.login_period_s
    identify_ip = client_ip(TrustedProxies(settings.trusted_proxies))
    throttle = LoginThrottle(
        per_account=create_limiter(
            "sliding_window_log", Limit(settings.login_per_account, period), redis=redis, prefix=prefix
        ),
        per_ip=create_limiter(
            "sliding_window_log", Limit(settings.login_per_ip, period), redis=redis, prefix=prefix
        ),
        identify_ip=identify_ip,
    )
    signup_limit = Limit(settings.signup_per_ip, settings.signup_period_s)
    signups = SignUpThrottle(
        create_limiter("sliding_window_log", signup_limit, redis=redis, prefix=prefix), identify_ip
    )
    store = Store(sessionmaker(engine), settings.refresh_ttl_s)
    passwords = Passwords(settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism)
    return GatewayState(settings, ring, tokens, engine, store, throttle, signups, passwords, redis)


def _lifespan(state: GatewayState) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.settings.is_sqlite:
            await create_tables(state.engine)
        # the pooled downstream clients live exactly as long as the app (gateway/routing.py)
        routing = open_routing(state.settings, state.redis)
        app.state.routing = routing
        state.closers.append(routing.aclose)
        routing.fallback.warm_soon()
        try:
            yield
        finally:
            for close in state.closers:
                await close()
            await state.engine.dispose()
            if state.redis is not None:
                await state.redis.aclose()

    return lifespan


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    state = build_state(settings)
    app = FastAPI(title="gateway", version="1", lifespan=_lifespan(state))
    app.state.gateway = state

    @app.get("/", include_in_schema=False)
    async def home() -> dict[str, Any]:
        links = {"docs": "/docs", "login": "POST /auth/token", "jwks": "/.well-known/jwks.json"}
        return {"service": "gateway", "mode": settings.mode, "links": links}

    app.include_router(auth.router)
    app.include_router(proxy.router)

    async def database() -> None:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def ping_redis() -> None:
        if state.redis is not None:
            await state.redis.ping()

    checks = [DependencyCheck("database", database)]
    if state.redis is not None:  # required: login throttling fails closed without it
        checks.append(DependencyCheck("redis", ping_redis))
    # Starlette runs the last-added middleware first: hosts, then size, then CORS (security headers: below)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        max_age=600,
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    instrument(app, service="gateway", checks=checks)
    wrap_outermost(app, hsts_max_age_s=settings.hsts_max_age_s)  # last, so outside every other layer
    return app
