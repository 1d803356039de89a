"""Signing keys, their ``kid`` and the JSON Web Key Set the services verify with (RFC 7517, RFC 7638).

One *current* private key signs every new token; *previous* keys sign nothing but stay in the JWKS until the
tokens they signed have expired, so rotating the key never logs anybody out and never breaks a verifier that
caches the JWKS. The ``kid`` is the key's RFC 7638 thumbprint: every worker and every restart derives the same
id from the same key, with nothing to configure or keep in sync. Only asymmetric keys (Ed25519 -> ``EdDSA``,
RSA -> ``RS256``): the services hold public keys that cannot sign, unlike a shared HMAC secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey
Algorithm = Literal["EdDSA", "RS256"]
ALGORITHMS: tuple[Algorithm, ...] = ("EdDSA", "RS256")
MIN_RSA_BITS = 2048
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL)
# RFC 7638 section 3.2: the required members of each key type, in lexicographic order
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}


class KeyConfigError(ValueError):
    """A configured key is unusable (not a PEM, not Ed25519/RSA, RSA too short)."""


@dataclass(frozen=True)
class SigningKey:
    private_key: PrivateKey

    @property
    def algorithm(self) -> Algorithm:
        return "EdDSA" if isinstance(self.private_key, ed25519.Ed25519PrivateKey) else "RS256"

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self.public_key))
        return {**jwk, "kid": thumbprint(jwk), "alg": self.algorithm, "use": "sig"}

    @property
    def kid(self) -> str:
        return str(self.public_jwk()["kid"])

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 over the required members as compact, sorted JSON, base64url without padding."""
    members = _THUMBPRINT_MEMBERS[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generate_key(algorithm: Algorithm = "EdDSA") -> SigningKey:
    if algorithm == "EdDSA":
        return SigningKey(ed25519.Ed25519PrivateKey.generate())
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS))


def load_keys(pems: str) -> list[SigningKey]:
    """Every private key in ``pems`` (one PEM block or several concatenated), in order."""
    blocks = _PEM_BLOCK.findall(pems)
    if not blocks:
        raise KeyConfigError("expected one or more PEM private keys (-----BEGIN PRIVATE KEY-----)")
    keys = []
    for block in blocks:
        try:
            key = serialization.load_pem_private_key(block.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise KeyConfigError(f"unreadable PEM private key: {type(exc).__name__}") from None
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
            raise KeyConfigError(f"RSA keys need at least {MIN_RSA_BITS} bits, got {key.key_size}")
        if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
            raise KeyConfigError(f"only Ed25519 and RSA keys are accepted, got {type(key).__name__}")
        keys.append(SigningKey(key))
    return keys


def private_pem(key: SigningKey) -> str:
    """PKCS#8 PEM of a key (for tests and for generating a deployment's secret)."""
    return key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


class KeyRing:
    """The current signing key plus the previous ones still trusted for verification, by ``kid``."""

    def __init__(self, current: SigningKey, previous: tuple[SigningKey, ...] = ()) -> None:
        self.current = current
        self.current_kid = current.kid
        self.previous = previous
        self._by_kid = {key.kid: key for key in (current, *previous)}

    def public_key(self, kid: str) -> PublicKey | None:
        key = self._by_kid.get(kid)
        return None if key is None else key.public_key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in (self.current, *self.previous)]}
