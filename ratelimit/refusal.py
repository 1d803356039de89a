"""A refusal that costs next to nothing: raw ASGI messages, a tiny body, headers prepared once.

Under a spike most requests are refused, so the price of a refusal is paid hundreds of times a second on the
core the admitted requests need. Envoy's local rate limit and nginx's ``limit_req`` answer before any routing
or logging for that reason, and so does this: no ``Response`` object, no routing, no dependency injection, no
pydantic, only the project's error envelope (``{"error": {"code", "message", "request_id"}}``) serialised by
orjson and two ``send`` calls. The static headers are encoded once per refusal kind; only the request id (and
the per-request ``RateLimit`` fields of a 429) vary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
from starlette.types import Scope, Send

from ratelimit.errors import request_id_of

Headers = list[tuple[bytes, bytes]]

_JSON = (b"content-type", b"application/json")


def encode_headers(headers: Mapping[str, str]) -> Headers:
    """``{"Retry-After": "2"}`` as the lower-case byte pairs ASGI wants."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class Refusal:
    """One kind of refusal, ready to send: ``await Refusal(503, "overloaded", msg).send(scope, send)``."""

    __slots__ = ("_headers", "_prefix", "status")

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self._headers: Headers = [_JSON, *encode_headers(headers or {})]
        # everything of the body but the request id, serialised once
        self._prefix = orjson.dumps({"code": code, "message": message})[:-1] + b',"request_id":'

    async def send(self, scope: Scope, send: Send, extra_headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        request_id, invented = request_id_of(scope)
        body = b'{"error":' + self._prefix + orjson.dumps(request_id) + b"}}"
        headers = [*self._headers, *extra_headers, (b"content-length", b"%d" % len(body))]
        if invented:  # nobody else will tell the client which id to quote in a bug report
            headers.append((b"x-request-id", request_id.encode("latin-1")))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
