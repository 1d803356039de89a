"""Settings come from the environment and refuse nonsense early."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from observability.settings import ObservabilitySettings

pytestmark = pytest.mark.unit


def test_defaults_are_info_level_no_exporter_and_single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOG_LEVEL", "OTEL_EXPORTER_OTLP_ENDPOINT", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = ObservabilitySettings()
    assert (settings.log_level, settings.otel_exporter_otlp_endpoint, settings.prometheus_multiproc_dir) == (
        "INFO", None, None,
    )  # fmt: skip


def test_values_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOG_LEVEL", " debug ")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = ObservabilitySettings()
    assert settings.log_level == "DEBUG"
    assert settings.otel_exporter_otlp_endpoint == "http://jaeger:4318"
    assert settings.prometheus_multiproc_dir == tmp_path


def test_an_unknown_log_level_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(ValidationError, match="unknown log level"):
        ObservabilitySettings()
