"""Opaque, signed keyset cursors: ``base64url(payload) "." base64url(hmac)``.

A keyset cursor carries the sort key of the last row a client saw (``(released_at, id)``), so the next page
is ``WHERE (released_at, id) < (:r, :i) ORDER BY released_at DESC, id DESC LIMIT n``: an index range scan that
costs the same on page 1 and page 10,000, where ``OFFSET`` reads and throws away every row before the page
(Markus Winand, "We need tool support for keyset pagination", use-the-index-luke.com/no-offset). The payload
also names the listing it belongs to (``scope``), so a cursor from one user's library cannot be replayed on
another listing, and it is signed (HMAC-SHA256) so clients treat it as opaque and cannot craft one: a
tampered, truncated or foreign cursor is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

import orjson

Key = tuple[str | int, ...]
_MAX_LENGTH = 512
_TAG_BYTES = 16


class CursorError(ValueError):
    """The cursor is malformed, tampered with, or belongs to another listing."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, scope: str, key: Sequence[str | int]) -> str:
        payload = orjson.dumps([scope, *key])
        return f"{_b64(payload)}.{_b64(self._tag(payload))}"

    def decode(self, scope: str, cursor: str, types: Sequence[type]) -> Key:
        """The key values, checked against ``types``; ``CursorError`` for anything else."""
        if len(cursor) > _MAX_LENGTH or cursor.count(".") != 1:
            raise CursorError("malformed cursor")
        body, tag = cursor.split(".")
        try:
            payload, given = _unb64(body), _unb64(tag)
        except (binascii.Error, ValueError) as exc:
            raise CursorError("malformed cursor") from exc
        if not hmac.compare_digest(given, self._tag(payload)):
            raise CursorError("cursor signature does not match")
        try:
            values = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:  # only reachable with the secret: still never a 500
            raise CursorError("malformed cursor") from exc
        if not isinstance(values, list) or not values or values[0] != scope:
            raise CursorError("cursor belongs to another listing")
        key = values[1:]
        if len(key) != len(types) or not all(_is(v, t) for v, t in zip(key, types, strict=True)):
            raise CursorError("cursor does not fit this listing")
        return tuple(key)


def _is(value: object, kind: type) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))
