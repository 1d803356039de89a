"""What each route documents beyond its success: the error envelope, by status, and the bearer scheme.

Clients, fuzzers and contract tests read the OpenAPI document, so it must list every status a route can
answer with and the body that comes with it: the project's envelope ``{"error": {"code", "message",
"request_id"}}`` (observability's ``ApiError``), never FastAPI's default ``{"detail": [...]}`` for a 422,
which this service does not send. ``BEARER`` declares the OAuth 2.0 password flow (``tokenUrl``
``/auth/token``), so the document says which routes need a token and the docs page can obtain one.
"""

from __future__ import annotations

from typing import Any

from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from gateway.settings import ADMIN_SCOPE, USER_SCOPES

BEARER = OAuth2PasswordBearer(
    tokenUrl="/auth/token",
    refreshUrl="/auth/refresh",
    scopes={
        scope: f"granted to {'admins' if scope == ADMIN_SCOPE else 'every user'}"
        for scope in (*USER_SCOPES, ADMIN_SCOPE)
    },
    auto_error=False,  # the route answers 401 itself, in the envelope and with WWW-Authenticate
)


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str


class ErrorBody(BaseModel):
    error: ErrorDetail


_STRING = {"schema": {"type": "string"}}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {"description": "Bearer, with error=invalid_token when one was sent", **_STRING}
    },
    403: {"WWW-Authenticate": {"description": 'Bearer error="insufficient_scope" and the scope', **_STRING}},
    409: {"Retry-After": {"description": "seconds until a retry may succeed", **_STRING}},
    429: {"Retry-After": {"description": "seconds until the limit admits another attempt", **_STRING}},
    503: {"Retry-After": {"description": "seconds until a retry may succeed", **_STRING}},
}
_DESCRIPTIONS = {
    400: "invalid_grant or invalid_scope (RFC 6749 section 5.2) on the token endpoints; elsewhere"
    " bad_request: a body that is not the JSON it claims to be",
    401: "missing_token or invalid_token: no valid bearer access token",
    403: "insufficient_scope: the token lacks the scope this call needs",
    404: "not_found: no such route (internal downstream routes are never exposed)",
    409: "a conflict: a taken username, or an Idempotency-Key still in flight",
    413: "payload_too_large: the request body is over the gateway's limit",
    422: "validation_error, or an Idempotency-Key reused for another request",
    429: "too many attempts from this address or for this account",
    502: "bad_gateway or downstream_response_too_large: no usable answer from the downstream",
    503: "the downstream's circuit is open, or the login limiter is unavailable",
    504: "downstream_timeout: no answer within the request's deadline",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status with the error envelope, its meaning and its headers."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        documented[status] = entry
    return documented


# a forwarded call answers with whatever the downstream said, besides the gateway's own errors
PASSED_THROUGH: dict[int | str, dict[str, Any]] = {
    "default": {
        "description": "the downstream service's answer, passed through (see that service's schema)",
        "content": {"application/json": {"schema": {}}, "text/plain": {"schema": {}}},
    }
}
