"""The token endpoints, sign-up, and the JWKS: ``/auth/token``, ``/auth/refresh``, ``/auth/logout``.

``/auth/token`` is the OAuth 2.0 password grant (RFC 6749 section 4.3), here for the demo and the CLI only:
OAuth 2.1 and RFC 9700 drop it because the client sees the password; a browser app uses the authorization
code flow with PKCE instead. Refresh tokens rotate on every use and their reuse revokes the family
(``store.py``). Every response under ``/auth/`` carries ``Cache-Control: no-store`` (``edge.py``). Errors say
``invalid_grant`` whether the username or the password was wrong: no account enumeration.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from gateway.deps import ClaimsDep, GatewayState, StateDep, require_scope
from gateway.responses import errors
from gateway.schemas import Me, PasswordGrant, RefreshGrant, Revocation, SignUp, TokenResponse, UserOut
from gateway.settings import ADMIN_SCOPE, USER_SCOPES
from gateway.store import Grant, RefreshRejectedError, UsernameTakenError
from gateway.tokens import Claims
from observability import ApiError, get_logger

router = APIRouter()
JWKS_MAX_AGE_S = 300


def _invalid_grant(message: str) -> ApiError:
    return ApiError(400, "invalid_grant", message)


def _respond(state: GatewayState, grant: Grant) -> TokenResponse:
    access = state.tokens.issue(grant.user_id, grant.scopes)
    return TokenResponse(
        access_token=access,
        expires_in=state.tokens.ttl_s,
        refresh_token=grant.refresh_token,
        scope=" ".join(grant.scopes),
    )


@router.post(
    "/auth/token", response_model=TokenResponse, tags=["auth"], responses=errors(400, 413, 422, 429, 503)
)
async def token(form: Annotated[PasswordGrant, Form()], request: Request, state: StateDep) -> TokenResponse:
    """Password grant: username + password -> a short-lived access token and a rotating refresh token."""
    username = form.username.casefold()
    await state.throttle.charge(request, username)
    user = await state.store.user_by_name(username)
    password = form.password.get_secret_value()
    ok, new_hash = await asyncio.to_thread(
        state.passwords.verify, password, user.password_hash if user else None
    )
    if user is None or not ok:
        get_logger("gateway.auth").info("login_failed")
        raise _invalid_grant("wrong username or password")
    if new_hash is not None:
        await state.store.update_password_hash(user.id, new_hash)
    granted = tuple(user.scopes.split())
    if form.scope is not None:
        asked = tuple(dict.fromkeys(form.scope.split()))
        if not set(asked) <= set(granted):
            raise ApiError(400, "invalid_scope", "a requested scope is not granted to this user")
        granted = asked
    grant = await state.store.start_family(user.id, granted)
    get_logger("gateway.auth").info("login_succeeded", user_id=user.id)
    return _respond(state, grant)


@router.post("/auth/refresh", response_model=TokenResponse, tags=["auth"], responses=errors(400, 413, 422))
async def refresh(form: Annotated[RefreshGrant, Form()], state: StateDep) -> TokenResponse:
    """Rotate: the presented refresh token is spent, a new pair is issued. Reusing a spent one revokes all."""
    try:
        grant = await state.store.rotate(form.refresh_token.get_secret_value())
    except RefreshRejectedError as exc:
        if exc.reused:
            get_logger("gateway.auth").warning("refresh_token_reused", detail="family revoked")
        raise _invalid_grant(str(exc)) from None
    return _respond(state, grant)


@router.post("/auth/logout", status_code=204, tags=["auth"], responses=errors(413, 422))
async def logout(form: Annotated[Revocation, Form()], state: StateDep) -> Response:
    """Revoke the refresh token's whole family. Unknown tokens get the same 204 (RFC 7009 section 2.2)."""
    await state.store.revoke(form.refresh_token.get_secret_value())
    return Response(status_code=204)


@router.get("/.well-known/jwks.json", tags=["auth"])
async def jwks(state: StateDep, response: Response) -> dict[str, Any]:
    """The public keys (current and previous) that verify our tokens, by ``kid``."""
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_S}"
    return state.ring.jwks()


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    tags=["users"],
    responses=errors(400, 409, 413, 422, 429, 503),
)
async def sign_up(body: SignUp, request: Request, state: StateDep) -> UserOut:
    """Create an account with the default user scopes (never client-chosen ones)."""
    # charged before hashing to sign-up's own per-IP limit: mass account creation (OWASP API6) is throttled,
    # sign-up cannot spend argon2 work past it, and it never uses up anyone's login attempts
    await state.signups.charge(request)
    password_hash = await asyncio.to_thread(state.passwords.hash, body.password.get_secret_value())
    try:
        user_id = await state.store.create_user(body.username, password_hash, USER_SCOPES)
    except UsernameTakenError:
        raise ApiError(409, "username_taken", "that username is taken") from None
    return UserOut(id=user_id, username=body.username, scopes=list(USER_SCOPES))


@router.get("/users/me", response_model=Me, tags=["users"], responses=errors(401))
async def me(claims: ClaimsDep) -> Me:
    return Me(id=claims.user_id, scopes=sorted(claims.scopes))


AdminDep = Annotated[Claims, Depends(require_scope(ADMIN_SCOPE))]


@router.get("/admin/users", response_model=list[UserOut], tags=["admin"], responses=errors(401, 403, 422))
async def list_users(
    _admin: AdminDep, state: StateDep, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> list[UserOut]:
    """Admin only (the ``admin`` scope): the first ``limit`` accounts."""
    users = await state.store.list_users(limit)
    return [UserOut(id=u.id, username=u.username, scopes=u.scopes.split()) for u in users]
