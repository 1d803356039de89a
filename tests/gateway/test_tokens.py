"""Access tokens: what we issue verifies here and in the catalog; every classic JWT attack is refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from catalog.auth import StaticKey, TokenVerifier
from gateway.keys import KeyRing, SigningKey, generate_key
from gateway.settings import AUDIENCES, ISSUER
from gateway.tokens import AccessTokens, InvalidTokenError

pytestmark = pytest.mark.unit


def tokens_for(key: SigningKey, *previous: SigningKey, ttl_s: int = 300) -> AccessTokens:
    return AccessTokens(KeyRing(key, previous), ISSUER, AUDIENCES, ttl_s)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, object], claims: dict[str, object], signature: bytes = b"") -> str:
    return ".".join((b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)))


def valid_claims() -> dict[str, object]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": list(AUDIENCES), "sub": "7", "iat": now, "exp": now + 300, "scope": "admin"}


def test_an_issued_token_verifies_with_its_user_and_scopes() -> None:
    tokens = tokens_for(generate_key())
    claims = tokens.verify(tokens.issue(42, ("catalog:read", "catalog:write")))
    assert claims.user_id == 42
    assert claims.scopes == {"catalog:read", "catalog:write"}


def test_the_catalog_verifier_accepts_a_gateway_token_for_its_audience() -> None:
    """The claims we issue are exactly what catalog/auth.py requires (iss, aud, sub, iat, exp, scope)."""
    key = generate_key()
    verifier = TokenVerifier(
        StaticKey(key.public_pem()), issuer=ISSUER, audience="catalog", algorithms=("RS256", "EdDSA")
    )
    principal = asyncio.run(verifier.verify(tokens_for(key).issue(5, ("catalog:write",))))
    assert (principal.user_id, principal.scopes) == (5, frozenset({"catalog:write"}))


def test_an_expired_token_is_refused_with_no_leeway() -> None:
    tokens = tokens_for(generate_key(), ttl_s=60)
    token = tokens.issue(1, (), now=time.time() - 61)
    with pytest.raises(InvalidTokenError, match="expired"):
        tokens.verify(token)


@pytest.mark.parametrize("audience", ["billing", "gateway-evil"])
def test_a_token_for_another_audience_is_refused(audience: str) -> None:
    tokens = tokens_for(generate_key())
    with pytest.raises(InvalidTokenError, match=r"(?i)audience"):
        tokens.verify(tokens.issue(1, ()), audience=audience)


def test_a_token_from_another_issuer_is_refused() -> None:
    key = generate_key()
    token = jwt.encode({**valid_claims(), "iss": "someone-else"}, key.private_key, "EdDSA", {"kid": key.kid})
    with pytest.raises(InvalidTokenError, match="issuer"):
        tokens_for(key).verify(token)


def test_an_unsigned_alg_none_token_is_refused() -> None:
    key = generate_key()
    token = forged({"alg": "none", "typ": "JWT", "kid": key.kid}, valid_claims())
    with pytest.raises(InvalidTokenError, match="not accepted"):
        tokens_for(key).verify(token)


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    """Algorithm confusion: HMAC with our *public* RSA key, hoping we use it as the HMAC secret."""
    key = generate_key("RS256")
    header: dict[str, object] = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    unsigned = forged(header, valid_claims()).rsplit(".", 1)[0]
    mac = hmac.new(key.public_pem().encode(), unsigned.encode(), hashlib.sha256).digest()
    token = f"{unsigned}.{b64(mac)}"
    with pytest.raises(InvalidTokenError, match="not accepted"):
        tokens_for(key).verify(token)


def test_a_token_whose_kid_names_a_key_of_another_type_is_refused() -> None:
    rsa_key, ed_key = generate_key("RS256"), generate_key("EdDSA")
    token = jwt.encode(valid_claims(), rsa_key.private_key, "RS256", {"kid": ed_key.kid})
    with pytest.raises(InvalidTokenError, match="does not fit"):
        tokens_for(ed_key).verify(token)


def test_a_token_signed_by_a_key_outside_the_ring_is_refused() -> None:
    outsider = generate_key()
    token = tokens_for(outsider).issue(1, ())
    with pytest.raises(InvalidTokenError, match="unknown key"):
        tokens_for(generate_key()).verify(token)


def test_after_rotation_old_tokens_still_verify_and_new_ones_use_the_new_key() -> None:
    old, new = generate_key(), generate_key()
    before = tokens_for(old).issue(3, ())
    rotated = tokens_for(new, old)
    after = rotated.issue(3, ())
    assert rotated.verify(before).user_id == 3
    assert jwt.get_unverified_header(after)["kid"] == new.kid
    assert [k["kid"] for k in rotated.ring.jwks()["keys"]] == [new.kid, old.kid]


def test_a_tampered_payload_is_refused() -> None:
    key = generate_key()
    header, _, signature = tokens_for(key).issue(1, ("catalog:read",)).split(".")
    payload = b64(json.dumps({**valid_claims(), "scope": "admin"}).encode())
    with pytest.raises(InvalidTokenError, match="rejected"):
        tokens_for(key).verify(f"{header}.{payload}.{signature}")


def test_a_non_numeric_subject_is_refused() -> None:
    key = generate_key()
    token = jwt.encode({**valid_claims(), "sub": "admin"}, key.private_key, "EdDSA", {"kid": key.kid})
    with pytest.raises(InvalidTokenError, match="numeric"):
        tokens_for(key).verify(token)
