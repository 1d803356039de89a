"""What routes depend on: the gateway's state, the verified caller, and scope checks (``Annotated`` aliases).

Authorisation at the edge is coarse (scopes per route, admin-only routes); object-level checks ("is this
playlist yours?") belong to the service that owns the object, which verifies the same forwarded token itself.
The one exception is the recommender, an internal service that trusts its callers: the gateway checks that a
``/recommendations/users/{id}`` path names the caller (``ownership.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bruteforce import LoginThrottle, SignUpThrottle
from gateway.keys import KeyRing
from gateway.passwords import Passwords
from gateway.responses import BEARER
from gateway.settings import GatewaySettings
from gateway.store import Store
from gateway.tokens import AccessTokens, Claims, InvalidTokenError
from observability import ApiError


@dataclass
class GatewayState:
    settings: GatewaySettings
    ring: KeyRing
    tokens: AccessTokens
    engine: AsyncEngine
    store: Store
    throttle: LoginThrottle
    signups: SignUpThrottle
    passwords: Passwords
    redis: Redis | RedisCluster | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


def get_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


StateDep = Annotated[GatewayState, Depends(get_state)]


async def current_claims(state: StateDep, token: Annotated[str | None, Depends(BEARER)]) -> Claims:
    """The verified claims of ``Authorization: Bearer <token>`` (declared in OpenAPI as the password flow)."""
    if not token or not token.strip():
        raise ApiError(
            401,
            "missing_token",
            "send Authorization: Bearer <access token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        return state.tokens.verify(token.strip())
    except InvalidTokenError as exc:
        raise ApiError(
            401, "invalid_token", str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from None


ClaimsDep = Annotated[Claims, Depends(current_claims)]


def require_scope(scope: str) -> Callable[[Claims], Awaitable[Claims]]:
    """A dependency: the verified caller, provided the token carries ``scope`` (403 otherwise)."""

    async def check(claims: ClaimsDep) -> Claims:
        if scope not in claims.scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                f"this call needs the {scope!r} scope",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
            )
        return claims

    return check
