"""What goes wrong in traffic control, and how it looks to a client.

Two kinds of failure live here. ``RateLimitBackendError`` is *ours*: the store behind a limiter (Redis) failed
or timed out, and the caller must degrade according to its policy instead of turning it into a 500. The JSON
error envelope is *the client's*: every refusal this library makes (429 rate limited, 503 overloaded, 503
limiter unavailable) is rendered as ``{"error": {"code", "message", "request_id"}}`` like every other error in
the project.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

import orjson
from starlette.responses import Response
from starlette.types import Scope

REQUEST_ID_HEADER = "x-request-id"
# where observability's RequestContextMiddleware stores the id (observability.request_id.SCOPE_KEY); a string
# rather than an import, so the limiter does not pull in the tracing stack; a test keeps the two equal
OBSERVABILITY_SCOPE_KEY = "observability.request_id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


class RateLimitBackendError(Exception):
    """The limiter's store could not answer (connection refused, timeout, NOSCRIPT loop, cluster down...)."""


def request_id_of(scope: Scope) -> tuple[str, bool]:
    """The request id for error bodies, and whether we had to make it up.

    The observability middleware keeps it in the scope (``OBSERVABILITY_SCOPE_KEY``) and echoes it as
    ``X-Request-ID``; an app may also put one in ``request.state.request_id``. Outside both we take a
    well-formed incoming header (the same rule observability applies: an opaque token, never something that
    could forge a log line), and only then invent one.
    """
    known = scope.get(OBSERVABILITY_SCOPE_KEY)
    if not isinstance(known, str):
        state = scope.get("state")
        known = state.get("request_id") if isinstance(state, Mapping) else None
    if isinstance(known, str) and known:
        return known, False
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(candidate):
                return candidate, False
    return uuid.uuid4().hex, True


def error_response(
    scope: Scope,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The project's JSON error envelope with ``headers`` (e.g. ``Retry-After``) attached."""
    request_id, invented = request_id_of(scope)
    all_headers = dict(headers or {})
    if invented:  # nobody else will tell the client which id to quote in a bug report
        all_headers["X-Request-ID"] = request_id
    body = orjson.dumps({"error": {"code": code, "message": message, "request_id": request_id}})
    return Response(body, status_code=status, headers=all_headers, media_type="application/json")
