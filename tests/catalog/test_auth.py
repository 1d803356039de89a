"""Token checks: allowlisted asymmetric algorithms, every registered claim checked, keys by PEM or JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from catalog.auth import JwksKeys, StaticKey, TokenVerifier
from catalog.tokens import SigningKey, TokenIssuer, generate_key, jwks
from observability import ApiError

pytestmark = pytest.mark.unit

ISSUER, AUDIENCE = "backend-answers-gateway", "catalog"


def _verifier(key: SigningKey) -> TokenVerifier:
    return TokenVerifier(
        StaticKey(key.public_pem()), issuer=ISSUER, audience=AUDIENCE, algorithms=("RS256", "EdDSA")
    )


@pytest.fixture(scope="module")
def ed_key() -> SigningKey:
    return generate_key("EdDSA")


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return generate_key("RS256")


@pytest.mark.parametrize("which", ["ed_key", "rsa_key"])
async def test_a_valid_token_names_its_user_and_scopes(which: str, request: pytest.FixtureRequest) -> None:
    key: SigningKey = request.getfixturevalue(which)
    principal = await _verifier(key).verify(TokenIssuer(key).issue(42, scopes=("catalog:read",)))
    assert principal.user_id == 42
    assert principal.scopes == frozenset({"catalog:read"})


async def _rejected(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(ApiError) as caught:
        await verifier.verify(token)
    assert caught.value.status == 401
    return caught.value.message


async def test_expired_tokens_are_rejected_with_no_leeway(ed_key: SigningKey) -> None:
    token = TokenIssuer(ed_key).issue(1, now=time.time() - 61, ttl_s=60)
    assert "expired" in await _rejected(_verifier(ed_key), token)


@pytest.mark.parametrize(("issuer", "audience"), [("someone-else", AUDIENCE), (ISSUER, "recommender")])
async def test_the_wrong_issuer_or_audience_is_rejected(
    ed_key: SigningKey, issuer: str, audience: str
) -> None:
    token = TokenIssuer(ed_key, issuer=issuer, audience=audience).issue(1)
    await _rejected(_verifier(ed_key), token)


async def test_alg_none_is_rejected_before_any_key_is_used(ed_key: SigningKey) -> None:
    token = jwt.encode(
        {"sub": "1", "iss": ISSUER, "aud": AUDIENCE, "exp": time.time() + 60}, "", algorithm="none"
    )
    assert "not accepted" in await _rejected(_verifier(ed_key), token)


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


async def test_hmac_signed_with_the_public_key_is_rejected(rsa_key: SigningKey) -> None:
    """The classic key-confusion attack: HS256 "signed" with the RSA public key the server holds."""
    public = rsa_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {
        "sub": "1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
    }
    # PyJWT refuses to HMAC with a PEM key, so the attacker's token is assembled by hand
    signing_input = (
        _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + b"." + _b64(json.dumps(claims).encode())
    )
    token = (signing_input + b"." + _b64(hmac.new(public, signing_input, hashlib.sha256).digest())).decode()
    assert "not accepted" in await _rejected(_verifier(rsa_key), token)


async def test_a_key_of_the_wrong_type_for_the_algorithm_is_rejected(
    ed_key: SigningKey, rsa_key: SigningKey
) -> None:
    token = TokenIssuer(rsa_key).issue(1)  # RS256, but the verifier holds an Ed25519 key
    assert "does not fit" in await _rejected(_verifier(ed_key), token)


async def test_a_forged_signature_is_rejected(ed_key: SigningKey) -> None:
    token = TokenIssuer(generate_key("EdDSA")).issue(1)
    await _rejected(_verifier(ed_key), token)


@pytest.mark.parametrize("sub", ["alice", "", "-1", "1" * 30])
async def test_a_subject_that_is_not_a_user_id_is_rejected(ed_key: SigningKey, sub: str) -> None:
    token = TokenIssuer(ed_key).issue(1, sub=sub)
    await _rejected(_verifier(ed_key), token)


async def test_jwks_keys_are_fetched_by_kid_cached_and_refetched_for_a_new_kid(ed_key: SigningKey) -> None:
    """Rotation: a token signed by a key published after the first fetch verifies after a JWKS refetch."""
    published = [ed_key]
    calls = []

    def serve(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json=jwks(*published))

    keys = JwksKeys(
        "http://gateway/.well-known/jwks.json", client=httpx.AsyncClient(transport=httpx.MockTransport(serve))
    )
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, algorithms=("EdDSA",))
    assert (await verifier.verify(TokenIssuer(ed_key).issue(7))).user_id == 7
    assert (await verifier.verify(TokenIssuer(ed_key).issue(8))).user_id == 8
    assert len(calls) == 1, "the second token used the cached key set"
    rotated = generate_key("EdDSA")
    published.append(rotated)
    keys._fetched_at -= 60  # past the minimum refetch interval
    assert (await verifier.verify(TokenIssuer(rotated).issue(9))).user_id == 9
    assert len(calls) == 2
    assert "unknown key id" in await _rejected(verifier, TokenIssuer(generate_key("EdDSA")).issue(1))
    assert len(calls) == 2, "an unknown kid right after a fetch does not hammer the issuer"
    await keys.aclose()


async def test_a_gateway_style_token_for_several_audiences_is_accepted(ed_key: SigningKey) -> None:
    """The gateway issues one token for all its downstreams: ``aud`` is a list that includes ``catalog``."""
    token = TokenIssuer(ed_key).issue(5, aud=["gateway", "catalog", "recommender"])
    assert (await _verifier(ed_key).verify(token)).user_id == 5
    elsewhere = TokenIssuer(ed_key).issue(5, aud=["gateway", "recommender"])
    await _rejected(_verifier(ed_key), elsewhere)
