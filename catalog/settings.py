"""The catalog's settings, from the environment (pydantic-settings; DESIGN.md "Conventions").

Shared variables: ``BACKEND_ANSWERS_MODE`` (``services`` or ``embedded``, set by ``make demo``),
``DATABASE_URL`` (PostgreSQL, or ``sqlite+aiosqlite:///...`` in embedded mode) and ``REDIS_URL`` (absent in
embedded mode: the cache is then in memory). Everything else is ``CATALOG_*``. Token verification keys come
from ``CATALOG_JWT_PUBLIC_KEY`` (a PEM) or ``CATALOG_JWKS_URL`` (the gateway's JWKS); in services mode the
service refuses to start without one of them, in embedded mode it generates an ephemeral keypair (see
``auth.py``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.pg import checked_schema

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Asymmetric algorithms only: the catalog holds public keys, never a shared secret it could also sign with.
ALLOWED_ALGORITHMS = frozenset({"RS256", "EdDSA"})


class CatalogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore", populate_by_name=True)

    mode: Literal["services", "embedded"] = Field(default="services", validation_alias="BACKEND_ANSWERS_MODE")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    schema_name: str = Field(default="catalog", validation_alias="CATALOG_SCHEMA")
    redis_prefix: str = "catalog:"

    # JWT verification (the gateway issues; we verify and enforce object-level access ourselves)
    jwt_public_key: SecretStr | None = None  # PEM; SecretStr only so it is never echoed in a repr
    jwks_url: str | None = None
    jwt_issuer: str = "backend-answers-gateway"
    jwt_audience: str = "catalog"
    jwt_algorithms: tuple[str, ...] = ("RS256", "EdDSA")
    write_scope: str = "catalog:write"
    jwks_cache_s: float = Field(default=300.0, gt=0)

    # Cursors are HMAC-signed so clients cannot craft them; one secret for every worker and restart.
    cursor_secret: SecretStr | None = None

    # Pool sized for the worker count (v2): each worker gets budget // workers connections and no overflow,
    # so N workers never hold more than the budget, whatever the load.
    workers: int = Field(default=1, ge=1, validation_alias="WEB_CONCURRENCY")
    db_connection_budget: int = Field(default=20, ge=1)
    db_pool_timeout_s: float = Field(default=5.0, gt=0)
    cache_ttl_s: float = Field(default=60.0, gt=0)
    # expired Idempotency-Key rows are deleted this often by every instance (housekeeping.py); 0: never
    idempotency_purge_interval_s: float = Field(default=3600.0, ge=0)

    # embedded mode only: rows seeded at start when the database is empty, so `make demo` has data
    embedded_seed_tracks: int = Field(default=5000, ge=0)
    embedded_seed_playlists: int = Field(default=300, ge=0)

    @field_validator("schema_name")
    @classmethod
    def _plain_schema(cls, value: str) -> str:
        return checked_schema(value)

    @field_validator("jwt_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - ALLOWED_ALGORITHMS
        if unknown or not value:
            raise ValueError(f"jwt_algorithms must be a non-empty subset of {sorted(ALLOWED_ALGORITHMS)}")
        return value

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

    @property
    def pool_size(self) -> int:
        return max(1, self.db_connection_budget // self.workers)
