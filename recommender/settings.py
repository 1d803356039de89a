"""The recommender service's settings, from the environment (pydantic-settings; DESIGN.md "Conventions").

Shared variables: ``BACKEND_ANSWERS_MODE`` (``services`` or ``embedded``) and ``REDIS_URL`` (absent in
embedded mode: the cache and the online play history are then in process memory). Everything else is
``RECOMMENDER_*``. ``RECOMMENDER_ADMIN_TOKEN`` guards ``POST /admin/reload`` (hot swap to the newest
artifact); without it the route answers 404, so an unconfigured service exposes no admin surface.
``OTEL_SDK_DISABLED=true`` (OpenTelemetry's standard variable) leaves the request tracing middleware out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from recommender.artifact import MODELS_DIR
from recommender.engine import ANN_THRESHOLD


class RecommenderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOMMENDER_", extra="ignore", populate_by_name=True)

    mode: Literal["services", "embedded"] = Field(default="services", validation_alias="BACKEND_ANSWERS_MODE")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    redis_prefix: str = "recommender:"
    # the play stream (API.md): the consumer reads it; its hash tag also holds the online history keys
    plays_stream: str = Field(default="plays", validation_alias="PLAYS_STREAM")

    models_dir: Path = MODELS_DIR
    # no artifact at start: train a small one on the synthetic log (ids renamed to catalog-style integers)
    bootstrap_users: int = Field(default=1000, ge=10)
    bootstrap_items: int = Field(default=2000, ge=20)
    bootstrap_iterations: int = Field(default=10, ge=1)
    ann_threshold: int = Field(default=ANN_THRESHOLD, ge=1)
    watch_interval_s: float = Field(default=0.0, ge=0)  # > 0: poll models_dir and hot-swap a newer artifact
    admin_token: SecretStr | None = None

    cache_enabled: bool = True
    cache_ttl_s: float = Field(default=300.0, gt=0)
    redis_timeout_s: float = Field(default=0.05, gt=0)
    dedupe_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)  # how long an event id is remembered
    # OpenTelemetry's own switch: with the SDK disabled every span is a no-op, yet the ASGI instrumentation
    # still parses each request for attributes (~20% of a cached answer's CPU), so we do not install it then
    otel_sdk_disabled: bool = Field(default=False, validation_alias="OTEL_SDK_DISABLED")

    @field_validator("redis_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @property
    def tracing(self) -> bool:
        return not self.otel_sdk_disabled

    @property
    def uses_redis(self) -> bool:
        return not self.embedded and self.redis_url is not None
