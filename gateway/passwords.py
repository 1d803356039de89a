"""Password hashing with argon2id (RFC 9106; OWASP Password Storage Cheat Sheet), through pwdlib.

argon2id is memory-hard, so guessing on GPUs is expensive; pwdlib's defaults follow RFC 9106's second
recommended option. A login for an unknown user still verifies against a dummy hash, so the response time does
not reveal which usernames exist. ``needs_rehash`` lets us raise the cost later: the next successful login
stores a hash with the new parameters.
"""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


@cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not-a-real-password-only-for-constant-time")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """``(ok, new_hash)``: ``new_hash`` is set when the stored hash should be upgraded."""
    if stored_hash is None:
        _hasher().verify(password, _dummy_hash())  # same work as a real check: no user enumeration by timing
        return False, None
    return _hasher().verify_and_update(password, stored_hash)
