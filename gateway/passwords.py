"""Password hashing with argon2id (RFC 9106; OWASP Password Storage Cheat Sheet), through pwdlib.

argon2id is memory-hard, so guessing on GPUs is expensive. The default cost is RFC 9106's second recommended
option (64 MiB, 3 passes, 4 lanes); settings may change it (never below OWASP's floor of 7 MiB), and
``verify_and_update`` returns a fresh hash when a stored one was made with other parameters, so the next
successful login upgrades it. A login for an unknown user still verifies against a dummy hash, so the response
time does not reveal which usernames exist.
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


class Passwords:
    def __init__(self, memory_kib: int = 65536, time_cost: int = 3, parallelism: int = 4) -> None:
        hasher = Argon2Hasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism)
        self._hash = PasswordHash((hasher,))
        self._dummy = self._hash.hash("not-a-real-password-only-for-constant-time")

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """``(ok, new_hash)``: ``new_hash`` is set when the stored hash should be upgraded."""
        if stored_hash is None:
            self._hash.verify(password, self._dummy)  # same work as a real check: no enumeration by timing
            return False, None
        return self._hash.verify_and_update(password, stored_hash)
