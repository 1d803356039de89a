"""Environment settings of the observability layer (pydantic-settings, DESIGN.md "Conventions").

``LOG_LEVEL`` sets the root log level; ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the standard OpenTelemetry variable)
turns on span export over OTLP/HTTP; ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's own variable) switches
/metrics to aggregate the files of every worker process.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ObservabilitySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    log_level: str = "INFO"
    otel_exporter_otlp_endpoint: str | None = None
    prometheus_multiproc_dir: Path | None = None

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if not isinstance(logging.getLevelNamesMapping().get(level), int):
            raise ValueError(f"unknown log level {value!r}")  # noqa: TRY004 - pydantic turns ValueError into a validation error
        return level

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None
