"""The catalog's client errors, as ``ApiError`` envelopes with stable codes.

One rule matters for security: a playlist the caller may not see gets exactly the 404 of a playlist that does
not exist (same code, same message), so probing ids tells an attacker nothing about what exists (OWASP API1,
Broken Object Level Authorization).
"""

from __future__ import annotations

from observability import ApiError


def not_found(kind: str, object_id: int) -> ApiError:
    return ApiError(404, f"{kind}_not_found", f"no {kind} {object_id}")


def bad_cursor(reason: str) -> ApiError:
    return ApiError(400, "bad_cursor", f"invalid cursor ({reason}); start again without one")
