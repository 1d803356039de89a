"""One JSON line per log event, whoever logs it: our code (structlog), libraries and uvicorn (stdlib).

Every event goes through the same processor chain: context variables (``request_id``), the current
OpenTelemetry span (``trace_id``/``span_id``), level, logger, service, an ISO-8601 UTC timestamp, and
exceptions rendered as a structured field instead of a multi-line traceback, then one orjson line on stdout.
stdlib records (uvicorn, libraries) enter that chain through structlog's ``ProcessorFormatter``
(https://www.structlog.org/en/stable/standard-library.html); structlog's own events skip the ``logging``
module altogether, because a ``LogRecord`` round trip (two records, a caller lookup, a handler) costs several
times the rest of the line, and the access line is written on every request. uvicorn's access logger is
silenced: the request middleware writes the one access line per request, with the route template.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import orjson
import structlog
from opentelemetry import trace
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from observability.settings import ObservabilitySettings

# uvicorn configures these itself before importing the app; we take them over afterwards.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error")
UVICORN_ACCESS_LOGGER = "uvicorn.access"
# One INFO line per outgoing HTTP call duplicates the client span the httpx instrumentation already records.
QUIET_LOGGERS = ("httpx", "httpcore")

_configured_service: str | None = None
# locals off: they leak secrets into logs and cost time; frames capped so a line stays readable
_TRACEBACKS = ExceptionDictTransformer(show_locals=False, max_frames=20)
# One lock for both writers (structlog's and stdlib's), so lines from threads never interleave.
_WRITE_LOCK = threading.RLock()


def _write_line(line: str) -> None:
    # sys.stdout looked up per line, not held: later redirections (pytest's capture, the demo) are honoured
    with _WRITE_LOCK:
        stream = sys.stdout
        stream.write(line + "\n")
        stream.flush()


class _StdoutLogger:
    """structlog's output end: writes the rendered line; ``name`` feeds the ``logger`` field."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or "root"

    def msg(self, message: str) -> None:
        _write_line(message)

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


class _StdoutHandler(logging.Handler):
    """The stdlib side: formats with ``ProcessorFormatter`` and writes through the same function."""

    observability = True  # marks handlers we installed, so reconfiguring replaces exactly them

    def __init__(self) -> None:
        super().__init__()
        self.lock = _WRITE_LOCK

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _write_line(self.format(record))
        except Exception:
            self.handleError(record)


def add_trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Add the current span's ids in the W3C hex form that Jaeger/Tempo search by."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def _add_service(service: str) -> Processor:
    def add_service(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict["service"] = service
        return event_dict

    return add_service


def _render_json(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> str:
    # default=str: an odd value (a UUID, a Path) must never turn a log call into an exception
    return orjson.dumps(event_dict, default=str).decode()


def shared_processors(service: str) -> list[Processor]:
    """What every event gets, structlog's and stdlib's alike, before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_service(service),
        add_trace_ids,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


RENDERING: list[Processor] = [structlog.processors.ExceptionRenderer(_TRACEBACKS), _render_json]


def configure_logging(service: str, level: str | None = None) -> None:
    """Send structlog and stdlib logging to stdout as JSON lines; calling again replaces, never adds.

    ``level`` defaults to ``LOG_LEVEL`` from the environment, else INFO.
    """
    global _configured_service  # noqa: PLW0603 - logging is process-wide state by nature
    level = ObservabilitySettings(log_level=level).log_level if level else ObservabilitySettings().log_level
    threshold = logging.getLevelNamesMapping()[level]
    shared = shared_processors(service)
    structlog.configure(
        processors=[*shared, *RENDERING],
        # below-threshold methods are no-ops: a debug call at INFO costs a method call, nothing more
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=_StdoutLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *RENDERING],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "observability", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)

    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()  # uvicorn's coloured default handlers
        logger.propagate = True  # ... replaced by ours, on the root logger
        logger.setLevel(logging.NOTSET)
    # No handler and no propagation: uvicorn checks hasHandlers() per connection and skips access logging
    # altogether, so the line is neither duplicated nor even formatted.
    access = logging.getLogger(UVICORN_ACCESS_LOGGER)
    access.handlers.clear()
    access.propagate = False
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, threshold))
    _configured_service = service


def logging_configured() -> bool:
    return _configured_service is not None


def get_logger(name: str | None = None, **initial_values: Any) -> FilteringBoundLogger:
    """A structlog logger whose ``logger`` field is ``name``; bind more with ``.bind(key=value)``."""
    logger: FilteringBoundLogger = structlog.get_logger(name, **initial_values)
    return logger
