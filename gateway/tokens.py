"""Short-lived JWT access tokens: issued with the current key, verified against an algorithm allowlist.

Verification follows RFC 8725 ("JWT Best Current Practices") and mirrors ``catalog/auth.py``, which verifies
the same tokens downstream: the header's ``alg`` must be on an allowlist of asymmetric algorithms before any
key is looked up (``none`` and HS256-signed-with-the-public-key are refused there), the ``kid`` must name a
key in the ring, the key's type must fit the algorithm, and ``iss``, ``aud``, ``exp``, ``iat`` and ``sub`` are
required and checked with no leeway. A token is a bearer credential: it is never logged.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from gateway.keys import ALGORITHMS, KeyRing

_KEY_TYPES: dict[str, type] = {"EdDSA": ed25519.Ed25519PublicKey, "RS256": rsa.RSAPublicKey}


class InvalidTokenError(Exception):
    """The token is not one we issued, or no longer valid; the message says why (safe to show)."""


@dataclass(frozen=True)
class Claims:
    user_id: int
    scopes: frozenset[str]
    expires_at: int
    token_id: str


@dataclass(frozen=True)
class AccessTokens:
    ring: KeyRing
    issuer: str
    audiences: tuple[str, ...]
    ttl_s: int

    def issue(self, user_id: int, scopes: tuple[str, ...], *, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "aud": list(self.audiences),
            "sub": str(user_id),
            "iat": issued,
            "exp": issued + self.ttl_s,
            "jti": secrets.token_hex(8),
            "scope": " ".join(scopes),
        }
        key = self.ring.current
        return jwt.encode(
            claims, key.private_key, algorithm=key.algorithm, headers={"kid": self.ring.current_kid}
        )

    def verify(self, token: str, *, audience: str = "gateway") -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidTokenError("malformed token") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise InvalidTokenError(f"algorithm {algorithm!r} is not accepted")
        key = self.ring.public_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidTokenError("unknown key id")
        if not isinstance(key, _KEY_TYPES[algorithm]):
            raise InvalidTokenError(f"the key does not fit algorithm {algorithm}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=audience,
                leeway=0,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"token rejected: {exc}") from None
        return _claims(claims)


def _claims(claims: dict[str, Any]) -> Claims:
    subject, scope = claims["sub"], claims.get("scope", "")
    if not isinstance(subject, str) or not subject.isdigit() or len(subject) > 18:
        raise InvalidTokenError("sub must be a numeric user id")
    scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
    return Claims(int(subject), scopes, int(claims["exp"]), str(claims.get("jti", "")))
