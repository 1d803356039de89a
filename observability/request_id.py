"""Correlation ids: accept the caller's ``X-Request-ID`` when it is safe to log and echo, else mint one.

An incoming id is only trusted as an opaque token of 1..128 characters from ``[A-Za-z0-9._-]``: anything
longer or stranger (spaces, quotes, newlines) could forge log lines, bloat them, or break a header, so it is
replaced by a fresh ``uuid4().hex``. The id lives in a context variable for the duration of the request, so
error handlers and log lines deep inside the request can read it without passing it around.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from contextvars import ContextVar, Token

HEADER = "x-request-id"
_HEADER_BYTES = HEADER.encode("ascii")
# also kept in the ASGI scope, for handlers that run outside the middleware
SCOPE_KEY = "observability.request_id"
_VALID = re.compile(r"[A-Za-z0-9._-]{1,128}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)

# RFC 9562 version-4 layout: 4 version bits = 0100, 2 variant bits = 10, the other 122 bits random.
_VERSION_MASK, _VERSION_4 = ~(0xF000 << 64), 0x4000 << 64
_VARIANT_MASK, _VARIANT_RFC = ~(0xC000 << 48), 0x8000 << 48


def is_valid(candidate: str) -> bool:
    return _VALID.fullmatch(candidate) is not None


def new_request_id() -> str:
    """``uuid.uuid4().hex``, without building a UUID object (which costs several times the random bytes)."""
    bits = int.from_bytes(os.urandom(16))
    return f"{bits & _VERSION_MASK & _VARIANT_MASK | _VERSION_4 | _VARIANT_RFC:032x}"


def from_headers(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The incoming id from raw ASGI headers when it is valid, else None (the caller then mints one)."""
    for name, value in headers:
        if name == _HEADER_BYTES:
            candidate = value.decode("latin-1")
            return candidate if _VALID.fullmatch(candidate) else None
    return None


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    return _current.get()


def set_current(request_id: str | None) -> Token[str | None]:
    return _current.set(request_id)


def reset_current(token: Token[str | None]) -> None:
    _current.reset(token)
