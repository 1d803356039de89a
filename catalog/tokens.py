"""Signing keys and access tokens for tests, the benchmark and embedded mode (the gateway issues real ones).

An Ed25519 (EdDSA) or RSA (RS256) keypair with a ``kid``; ``TokenIssuer.issue`` signs the claims the catalog
checks (``iss``, ``aud``, ``sub``, ``iat``, ``exp``, ``scope``). ``jwks()`` publishes the public half as a
JSON Web Key Set (RFC 7517), the document the gateway will serve and ``auth.JwksKeys`` fetches.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
READ_WRITE = ("catalog:read", "catalog:write")


@dataclass(frozen=True)
class SigningKey:
    private_key: PrivateKey
    kid: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def algorithm(self) -> Literal["EdDSA", "RS256"]:
        return "EdDSA" if isinstance(self.private_key, ed25519.Ed25519PrivateKey) else "RS256"

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def generate_key(algorithm: Literal["EdDSA", "RS256"] = "EdDSA") -> SigningKey:
    if algorithm == "EdDSA":
        return SigningKey(ed25519.Ed25519PrivateKey.generate())
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


@dataclass(frozen=True)
class TokenIssuer:
    key: SigningKey
    issuer: str = "backend-answers-gateway"
    audience: str = "catalog"

    def issue(
        self,
        user_id: int,
        *,
        scopes: tuple[str, ...] = READ_WRITE,
        ttl_s: float = 900,
        now: float | None = None,
        **extra: Any,
    ) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "iat": issued,
            "exp": issued + int(ttl_s),
            "scope": " ".join(scopes),
            **extra,
        }
        return jwt.encode(
            claims, self.key.private_key, algorithm=self.key.algorithm, headers={"kid": self.key.kid}
        )
