"""Request and response bodies. Every input model forbids unknown fields: no mass assignment.

A client that sends ``{"username": ..., "password": ..., "scopes": ["admin"]}`` to sign up gets a 422 naming
the field, instead of the field being silently bound to the user (OWASP API3:2023, "Broken Object Property
Level Authorization"). Scopes are granted by the server, never read from a sign-up body.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

USERNAME = r"^[a-z0-9][a-z0-9_.-]{2,63}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PasswordGrant(Strict):
    """RFC 6749 section 4.3, kept for the demo and the CLI (OAuth 2.1 drops it; see answers/q05)."""

    grant_type: Literal["password"]
    username: str = Field(min_length=1, max_length=64)
    password: SecretStr = Field(min_length=1, max_length=256)
    scope: str | None = Field(default=None, max_length=512)


class RefreshGrant(Strict):
    grant_type: Literal["refresh_token"] = "refresh_token"
    refresh_token: SecretStr = Field(min_length=1, max_length=256)


class Revocation(Strict):
    refresh_token: SecretStr = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    refresh_token: str
    scope: str


class SignUp(Strict):
    username: str = Field(pattern=USERNAME)
    password: SecretStr = Field(
        min_length=12, max_length=256
    )  # NIST SP 800-63B: length, not composition rules


class UserOut(BaseModel):
    id: int
    username: str
    scopes: list[str]


class Me(BaseModel):
    id: int
    scopes: list[str]
