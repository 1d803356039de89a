"""Verify the caller's JWT; the catalog then enforces object-level access on the verified user.

Rules (RFC 8725, "JWT Best Current Practices"): an explicit allowlist of asymmetric algorithms (``RS256``,
``EdDSA``), so ``none`` and HMAC-with-the-public-key confusion are refused before any key is touched; the
key's type must match the algorithm; ``iss``, ``aud``, ``exp``, ``iat`` and ``sub`` are required and checked
with no leeway. Keys come from a PEM public key or a JWKS URL (fetched with httpx, cached, refetched at most
every ``MIN_REFRESH_S`` when an unknown ``kid`` shows up: key rotation without a restart and without letting
random ``kid`` values hammer the issuer). Every failure is a 401 with ``WWW-Authenticate: Bearer``; writes
also need the write scope (403). The gateway's forwarded token is verified here again: a header such as
``X-User-Id`` could be spoofed by anything that reaches the service.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol, cast

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from observability import ApiError

MIN_REFRESH_S = 30.0
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "RS256": (rsa.RSAPublicKey,),
    "EdDSA": (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
}


@dataclass(frozen=True)
class Principal:
    user_id: int
    scopes: frozenset[str]


class NoKeyError(LookupError):
    """No usable key for this token."""


class KeySource(Protocol):
    async def key_for(self, kid: str | None) -> Any: ...


class StaticKey:
    """One public key from a PEM; any ``kid`` (or none) selects it."""

    def __init__(self, pem: str) -> None:
        self.key = load_pem_public_key(pem.encode())

    async def key_for(self, kid: str | None) -> Any:  # noqa: ARG002 - one key serves every kid
        return self.key


class JwksKeys:
    """Keys from a JWKS URL, by ``kid``; cached for ``ttl_s``."""

    def __init__(self, url: str, *, ttl_s: float = 300.0, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.ttl_s = ttl_s
        self._client = client or httpx.AsyncClient(timeout=2.0)
        self._keys: dict[str, Any] = {}
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> Any:
        if kid is None:
            raise NoKeyError("token has no kid; a JWKS needs one to pick the key")
        stale = time.monotonic() - self._fetched_at > self.ttl_s
        if stale or (kid not in self._keys and time.monotonic() - self._fetched_at > MIN_REFRESH_S):
            await self._refresh()
        if kid not in self._keys:
            raise NoKeyError(f"unknown key id {kid!r}")
        return self._keys[kid]

    async def _refresh(self) -> None:
        async with self._lock:  # one fetch for a burst of requests
            if time.monotonic() - self._fetched_at <= MIN_REFRESH_S:
                return
            try:
                response = await self._client.get(self.url)
                response.raise_for_status()
                keys = jwt.PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                if not self._keys:  # nothing cached to fall back on
                    raise NoKeyError(f"could not fetch the JWKS: {type(exc).__name__}") from exc
                return  # keep serving the keys we have; try again after MIN_REFRESH_S
            finally:
                self._fetched_at = time.monotonic()
            self._keys = {k.key_id: k.key for k in keys.keys if k.key_id}

    async def aclose(self) -> None:
        await self._client.aclose()


def _unauthorised(message: str) -> ApiError:
    return ApiError(
        401, "invalid_token", message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


class TokenVerifier:
    def __init__(self, keys: KeySource, *, issuer: str, audience: str, algorithms: tuple[str, ...]) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _unauthorised("malformed token") from exc
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise _unauthorised(f"algorithm {algorithm!r} is not accepted")
        try:
            key = await self.keys.key_for(header.get("kid"))
        except NoKeyError as exc:
            raise _unauthorised(str(exc)) from exc
        if not isinstance(key, _KEY_TYPES[algorithm]):
            raise _unauthorised(f"the key does not fit algorithm {algorithm}")
        try:
            claims = jwt.decode(
                token,
                cast("PublicKey", key),  # its type was checked against the algorithm above
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=0,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise _unauthorised(f"token rejected: {exc}") from exc
        return principal_of(claims)


def principal_of(claims: dict[str, Any]) -> Principal:
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.isdigit() or len(subject) > 18:
        raise _unauthorised("sub must be a numeric user id")
    scope = claims.get("scope", "")
    scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
    return Principal(int(subject), scopes)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "missing_token",
            "send Authorization: Bearer <access token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise ApiError(403, "insufficient_scope", f"this call needs the {scope!r} scope")
