"""What a handler needs, as ``Annotated`` dependencies: the app state, sessions, the caller, page sizes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.auth import JwksKeys, Principal, TokenVerifier, bearer_token
from catalog.cursor import CursorCodec
from catalog.db import Databases
from catalog.schemas import MAX_PAGE
from catalog.settings import CatalogSettings
from catalog.tokens import TokenIssuer
from ratelimit.cache import Cache

MAX_ID = 2**63 - 1


@dataclass
class CatalogState:
    settings: CatalogSettings
    databases: Databases
    cache: Cache
    verifier: TokenVerifier
    cursors: CursorCodec
    dev_issuer: TokenIssuer | None  # embedded mode without configured keys only
    redis: aioredis.Redis | None = None
    jwks: JwksKeys | None = None


def state_of(request: Request) -> CatalogState:
    state: CatalogState = request.app.state.catalog
    return state


StateDep = Annotated[CatalogState, Depends(state_of)]
_bearer = HTTPBearer(auto_error=False, description="An access token issued by the gateway (RS256 or EdDSA).")


async def current_principal(
    state: StateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    token = bearer_token(f"{credentials.scheme} {credentials.credentials}" if credentials else None)
    return await state.verifier.verify(token)


async def v1_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.databases.v1() as session:
        yield session


async def v2_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.databases.v2() as session:  # connects on first query only: cache hits never check out
        yield session


PrincipalDep = Annotated[Principal, Depends(current_principal)]
V1Session = Annotated[AsyncSession, Depends(v1_session)]
V2Session = Annotated[AsyncSession, Depends(v2_session)]
PlaylistId = Annotated[int, Path(ge=1, le=MAX_ID, description="playlist id")]
ArtistId = Annotated[int, Path(ge=1, le=MAX_ID, description="artist id")]
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="user id")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"items per page, at most {MAX_PAGE}")]
Offset = Annotated[int, Query(ge=0, le=2**53, description="rows to skip (v1 only)")]
CursorParam = Annotated[
    str | None, Query(max_length=512, description="the opaque `page.next` of the previous page (v2 only)")
]
