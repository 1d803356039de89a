"""One JSON line per log event, whoever logs it: our code (structlog), libraries and uvicorn (stdlib).

Every record, structlog's or stdlib's, goes through the same processor chain on its way out (structlog's
``ProcessorFormatter`` recipe, https://www.structlog.org/en/stable/standard-library.html): context variables
(``request_id``), the current OpenTelemetry span (``trace_id``/``span_id``), level, logger, service, an
ISO-8601 UTC timestamp, and exceptions rendered as a structured field instead of a multi-line traceback.
uvicorn's own access logger is silenced: the request middleware writes the one access line per request, with
the route template.
"""

from __future__ import annotations

import logging
import sys

import orjson
import structlog
from opentelemetry import trace
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

from observability.settings import ObservabilitySettings

# uvicorn configures these itself before importing the app; we take them over afterwards.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error")
UVICORN_ACCESS_LOGGER = "uvicorn.access"
# One INFO line per outgoing HTTP call duplicates the client span the httpx instrumentation already records.
QUIET_LOGGERS = ("httpx", "httpcore")

_configured_service: str | None = None
_TRACEBACKS = ExceptionDictTransformer(show_locals=False, max_frames=20)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes to whatever ``sys.stdout`` is when a record is emitted.

    Holding the stream from configuration time would bypass later redirections (pytest's capture, a demo that
    collects its own output); looking it up per record costs one attribute read.
    """

    observability = True  # marks handlers we installed, so reconfiguring replaces exactly them

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


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
    """What every record gets, structlog's and stdlib's alike."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_service(service),
        add_trace_ids,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(service: str, level: str | None = None) -> None:
    """Send structlog and stdlib logging to stdout as JSON lines; calling again replaces, never adds.

    ``level`` defaults to ``LOG_LEVEL`` from the environment, else INFO.
    """
    global _configured_service  # noqa: PLW0603 - logging is process-wide state by nature
    level = ObservabilitySettings(log_level=level).log_level if level else ObservabilitySettings().log_level
    shared = shared_processors(service)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # drop below-level events before any work is done on them
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # locals off: they leak secrets into logs and cost time; frames capped so a line stays readable
            structlog.processors.ExceptionRenderer(_TRACEBACKS),
            _render_json,
        ],
    )
    handler = _StdoutHandler(sys.stdout)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "observability", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)

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
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelNamesMapping()[level]))
    _configured_service = service


def logging_configured() -> bool:
    return _configured_service is not None


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
