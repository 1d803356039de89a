"""The gateway's settings, from the environment (pydantic-settings; DESIGN.md "Conventions").

Shared variables: ``BACKEND_ANSWERS_MODE`` (``services`` or ``embedded``), ``DATABASE_URL`` and ``REDIS_URL``.
Everything else is ``GATEWAY_*``. The signing key is a secret: ``GATEWAY_JWT_PRIVATE_KEY`` (PEM, Ed25519 or
RSA) signs every new token and ``GATEWAY_JWT_PREVIOUS_KEYS`` (PEMs, concatenated) are the keys it replaced,
whose public halves the JWKS keeps serving until the tokens they signed have expired (key rotation). In
services mode the gateway refuses to start without a signing key; embedded mode generates an ephemeral one
with a warning (``service.py``). Token claims match what ``catalog/auth.py`` verifies: ``iss``
``backend-answers-gateway``, ``aud`` containing ``catalog``, numeric ``sub``, ``iat``, ``exp``, ``scope``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from observability.pg import checked_schema

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
ISSUER = "backend-answers-gateway"
# Every audience the gateway's tokens are meant for: itself and the services behind it.
AUDIENCES = ("gateway", "catalog", "recommender")
USER_SCOPES = ("catalog:read", "catalog:write", "recommendations:read")
ADMIN_SCOPE = "admin"

CommaList = Annotated[tuple[str, ...], NoDecode]


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    mode: Literal["services", "embedded"] = Field(default="services", validation_alias="BACKEND_ANSWERS_MODE")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    schema_name: str = Field(default="gateway", validation_alias="GATEWAY_SCHEMA")
    redis_prefix: str = "gateway:"

    # tokens
    jwt_private_key: SecretStr | None = None
    jwt_previous_keys: SecretStr | None = None
    jwt_issuer: str = ISSUER
    jwt_audiences: CommaList = AUDIENCES
    access_ttl_s: int = Field(default=300, ge=30, le=3600)  # short: a leaked access token dies quickly
    refresh_ttl_s: int = Field(default=14 * 24 * 3600, ge=60)

    # argon2id cost (RFC 9106 option 2 by default; OWASP's floor is 7 MiB)
    argon2_memory_kib: int = Field(default=65536, ge=7168)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_parallelism: int = Field(default=4, ge=1)

    # the edge
    allowed_hosts: CommaList = ("localhost", "127.0.0.1")
    cors_origins: CommaList = ()
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    trusted_proxies: CommaList = ()  # addresses/CIDRs whose X-Forwarded-For we believe (ratelimit.identity)
    hsts_max_age_s: int = Field(default=63072000, ge=0)  # two years, as hstspreload.org asks

    # login brute force: per account (guessing one password) and per client IP (spraying many accounts)
    login_per_account: int = Field(default=5, ge=1)
    login_per_ip: int = Field(default=20, ge=1)
    login_period_s: float = Field(default=60.0, gt=0)
    # sign-up: its own budget per client IP (bruteforce.SignUpThrottle), never login's
    signup_per_ip: int = Field(default=20, ge=1)
    signup_period_s: float = Field(default=3600.0, gt=0)

    # downstreams
    catalog_url: str = "http://127.0.0.1:8010"
    recommender_url: str = "http://127.0.0.1:8020"
    # resilience (gateway/resilience.py): a request's budget, each attempt's cap, retries, breakers
    request_deadline_s: float = Field(
        default=3.0, gt=0
    )  # callers may shorten it with X-Request-Deadline (ms)
    max_request_deadline_s: float = Field(default=10.0, gt=0)
    downstream_timeout_s: float = Field(default=2.0, gt=0)
    downstream_max_connections: int = Field(default=100, ge=1)
    # a downstream's answer is read up to this size (decoded), then refused with 502 (downstream.py)
    downstream_max_response_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    retry_max_attempts: int = Field(default=3, ge=1)
    retry_backoff_base_s: float = Field(default=0.05, ge=0)
    retry_backoff_cap_s: float = Field(default=0.5, ge=0)
    retry_budget_ratio: float = Field(default=0.1, ge=0, le=1)  # retries <= reserve + ratio * requests
    retry_budget_reserve: float = Field(default=3.0, ge=0)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=5.0, gt=0)
    idempotency_ttl_s: float = Field(default=86400.0, gt=0)
    idempotency_wait_s: float = Field(
        default=1.0, ge=0
    )  # a duplicate waits this long for the first, then 409
    popular_ttl_s: float = Field(default=300.0, gt=0)

    @field_validator("allowed_hosts", "cors_origins", "jwt_audiences", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "*" in value:
            raise ValueError("cors_origins is an allowlist: name the origins, '*' is refused")
        return value

    @field_validator("schema_name")
    @classmethod
    def _plain_schema(cls, value: str) -> str:
        return checked_schema(value)

    @field_validator("redis_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
