"""The one logging, metrics and tracing setup every service imports (Q8: logging and monitoring).

``configure_logging`` for JSON logs, ``instrument(app, service=...)`` for everything a FastAPI service needs:
request ids, one access line per request, RED metrics, error envelopes, /metrics /healthz /readyz and tracing.
"""

from observability.app import instrument
from observability.errors import ApiError
from observability.health import DependencyCheck
from observability.logging import configure_logging, get_logger
from observability.request_id import current_request_id
from observability.results import write_results

__all__ = [
    "ApiError",
    "DependencyCheck",
    "configure_logging",
    "current_request_id",
    "get_logger",
    "instrument",
    "write_results",
]
