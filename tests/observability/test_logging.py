"""configure_logging: one JSON line per event from structlog, stdlib and uvicorn alike; idempotent."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import httpx
import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from observability import configure_logging, get_logger
from observability.logging import add_trace_ids
from tests.observability.conftest import json_lines, uvicorn_server


@pytest.mark.unit
def test_a_structlog_event_is_one_json_line_with_service_level_event_and_utc_iso_timestamp(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("svc", "INFO")
    get_logger("t").info("user_signed_up", user_id=7)
    [line] = json_lines(capsys.readouterr().out)
    assert line["event"] == "user_signed_up"
    assert line["user_id"] == 7
    assert line["service"] == "svc"
    assert line["level"] == "info"
    assert line["logger"] == "t"
    stamp = dt.datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 60


@pytest.mark.unit
@pytest.mark.parametrize("name", ["some.library", "uvicorn", "uvicorn.error"])
def test_stdlib_and_uvicorn_loggers_go_through_the_same_json_processors(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("svc", "INFO")
    structlog.contextvars.bind_contextvars(request_id="r-1")
    logging.getLogger(name).warning("disk %s%% full", 91)
    [line] = json_lines(capsys.readouterr().out)
    assert line["event"] == "disk 91% full"
    assert line["logger"] == name
    assert line["level"] == "warning"
    assert line["service"] == "svc"
    assert line["request_id"] == "r-1"
    assert "\x1b[" not in str(line)  # uvicorn's coloured formatter is gone


@pytest.mark.unit
def test_uvicorn_access_logger_is_silenced_so_our_access_line_is_the_only_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """uvicorn skips access logging entirely when the logger has no handlers anywhere up its chain."""
    logging.getLogger("uvicorn.access").addHandler(logging.StreamHandler())  # as uvicorn's own config does
    configure_logging("svc", "INFO")
    access = logging.getLogger("uvicorn.access")
    assert not access.hasHandlers()
    access.info('127.0.0.1:1 - "GET / HTTP/1.1" 200')
    assert capsys.readouterr().out == ""


@pytest.mark.unit
def test_an_exception_is_a_structured_field_on_the_same_single_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("svc", "INFO")
    config: dict[str, str] = {}
    try:
        config["missing"]  # the KeyError is the point
    except KeyError:
        get_logger("t").exception("lookup_failed")
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    [line] = json_lines(out)
    [exc] = line["exception"]
    assert exc["exc_type"] == "KeyError"
    assert exc["frames"][-1]["name"] == "test_an_exception_is_a_structured_field_on_the_same_single_line"
    assert "locals" not in exc["frames"][-1]  # locals can hold secrets; they are never logged


@pytest.mark.unit
def test_configuring_twice_emits_each_line_once(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("svc", "INFO")
    configure_logging("svc", "INFO")
    get_logger().info("once")
    logging.getLogger("lib").info("once too")
    assert [line["event"] for line in json_lines(capsys.readouterr().out)] == ["once", "once too"]


@pytest.mark.unit
def test_the_level_filters_events_and_defaults_to_log_level_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "warning")
    configure_logging("svc")
    get_logger().info("hidden")
    logging.getLogger("lib").debug("hidden too")
    get_logger().warning("shown")
    assert [line["event"] for line in json_lines(capsys.readouterr().out)] == ["shown"]


@pytest.mark.unit
def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("svc", "LOUD")


@pytest.mark.unit
def test_log_lines_carry_the_ids_of_the_active_span_and_none_outside_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("svc", "INFO")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        get_logger().info("inside")
    get_logger().info("outside")
    inside, outside = json_lines(capsys.readouterr().out)
    context = span.get_span_context()
    assert inside["trace_id"] == f"{context.trace_id:032x}"
    assert inside["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in outside
    assert "span_id" not in outside


@pytest.mark.unit
def test_the_trace_processor_leaves_an_event_alone_without_a_span() -> None:
    assert add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}


@pytest.mark.integration
def test_a_real_uvicorn_writes_only_json_lines_and_exactly_one_access_line_per_request(
    tmp_path: Path,
) -> None:
    """uvicorn's own startup lines come through our processors; its access logger stays silent."""
    with uvicorn_server(tmp_path, workers=1, env={"LOG_LEVEL": "INFO"}) as (url, log):
        for i in range(5):
            assert httpx.get(f"{url}/items/{i + 1}", headers={"X-Request-ID": f"uv-{i}"}).status_code == 200
    lines = json_lines(log.read_text())  # fails on any line that is not one JSON object
    assert "\x1b[" not in log.read_text()
    startup = [line for line in lines if line["logger"] == "uvicorn.error"]
    assert any(line["event"].startswith("Uvicorn running on") for line in startup)
    assert all(line["service"] == "demo-catalog" for line in startup)
    access = [line for line in lines if line["event"] == "request"]
    assert [line["request_id"] for line in access] == [f"uv-{i}" for i in range(5)]
    assert not [line for line in lines if line.get("logger") == "uvicorn.access"]
