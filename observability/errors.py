"""One error shape for every failure: ``{"error": {"code", "message", "request_id"}}``, never a traceback.

A client (or an on-call engineer holding a bug report) gets a stable machine-readable ``code``, a message a
human can act on, and the ``request_id`` that finds the matching log lines and trace. Validation errors name
every bad field in the message; unexpected exceptions are logged in full on our side and reach the client as a
bare 500.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from observability import request_id as rid
from observability.logging import get_logger


class ApiError(Exception):
    """Answer with ``status`` and the envelope: ``ApiError(404, "track_not_found", "No track 7")``."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def envelope(code: str, message: str, request_id: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "request_id": request_id}}


def request_id_of(request: Request) -> str:
    """The id the middleware gave this request; a fresh one if the request never passed through it."""
    return rid.current_request_id() or request.scope.get(rid.SCOPE_KEY) or rid.new_request_id()


def error_response(
    request: Request, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(envelope(code, message, request_id_of(request)), status_code=status, headers=headers)


def status_code_name(status: int) -> str:
    """``404 -> "not_found"``: a stable code for errors raised as plain HTTPExceptions."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "http_error"
    return "_".join(phrase.lower().replace("-", " ").replace("'", "").split())


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """``Invalid request: body.name: Field required; query.limit: ...``: every bad field, in order."""
    parts = []
    for error in errors:
        location = ".".join(str(part) for part in error.get("loc", ())) or "request"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail
    message = detail if isinstance(detail, str) else json.dumps(detail, default=str)
    return error_response(request, exc.status_code, status_code_name(exc.status_code), message, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(request, 422, "validation_error", describe_validation_errors(exc.errors()))


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(request, exc.status, exc.code, exc.message, exc.headers)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    # Reached only for exceptions raised outside the request middleware (which renders its own 500s), so
    # outside its send wrapper too: this response adds the request id header itself.
    request_id = request_id_of(request)
    get_logger("observability.errors").error("unhandled_exception", request_id=request_id, exc_info=exc)
    return JSONResponse(
        envelope("internal_error", "Internal server error", request_id),
        status_code=500,
        headers={rid.HEADER: request_id},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(Exception, _unhandled)
