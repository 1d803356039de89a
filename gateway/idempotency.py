"""``Idempotency-Key`` on POSTs: the first response is stored and replayed, so a retried POST has one effect.

The protocol of the IETF httpapi draft "The Idempotency-Key HTTP Header Field" (and Stripe's API): keys are
scoped to the caller; the first request with a key *claims* it with Redis ``SET NX PX`` (an in-flight marker
with a short TTL, so a crashed gateway cannot lock a key forever); when the downstream answers, the marker is
replaced by the response (status, a subset of headers, body) for ``ttl_s``. A later request with the same
key and the same fingerprint (method, path, query, body) gets the stored response replayed; with a different
fingerprint it is refused with 422 (the key was reused for another request); while the first is still in
flight, the duplicate waits a little and then gets 409. When the downstream gave no answer or a 5xx, the
claim is released so the client can retry. Compare-and-set scripts make sure only the claimant completes or
releases its own marker. ``MemoryIdempotencyStore`` is the in-process twin for embedded mode.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

KEEP_HEADERS = frozenset({"content-type", "location", "etag", "last-modified", "retry-after"})
MAX_KEY_LENGTH = 255


class ClaimState(StrEnum):
    NEW = "new"  # ours: send the request, then complete() or release()
    REPLAY = "replay"  # done before with the same request: replay ``response``
    IN_FLIGHT = "in_flight"  # the same request is being processed right now
    MISMATCH = "mismatch"  # the key was used for a different request


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    token: str = ""
    response: StoredResponse | None = None


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode()):
        digest.update(part + b"\x00")
    digest.update(body)
    return digest.hexdigest()


def scoped_key(caller: str, key: str) -> str:
    """One namespace per caller, and a hash so any client string is a safe, bounded Redis key."""
    return f"{caller}:{hashlib.sha256(key.encode()).hexdigest()}"


def kept_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers.items() if name.lower() in KEEP_HEADERS]


def _pending(fp: str, token: str) -> bytes:
    return orjson.dumps({"fp": fp, "token": token, "state": "pending"})


def _done(fp: str, token: str, response: StoredResponse) -> bytes:
    body = base64.b64encode(response.body).decode()
    record = {
        "fp": fp,
        "token": token,
        "state": "done",
        "status": response.status,
        "headers": response.headers,
    }
    return orjson.dumps({**record, "body": body})


def _judge(raw: bytes | str, fp: str) -> Claim:
    record: dict[str, Any] = orjson.loads(raw)
    if record["fp"] != fp:
        return Claim(ClaimState.MISMATCH)
    if record["state"] != "done":
        return Claim(ClaimState.IN_FLIGHT)
    headers = [(str(name), str(value)) for name, value in record["headers"]]
    stored = StoredResponse(int(record["status"]), headers, base64.b64decode(record["body"]))
    return Claim(ClaimState.REPLAY, response=stored)


class IdempotencyStore(Protocol):
    async def claim(self, key: str, fp: str) -> Claim: ...

    async def complete(self, key: str, claim: Claim, fp: str, response: StoredResponse) -> None: ...

    async def release(self, key: str, claim: Claim) -> None: ...


# only the claimant (same token) may replace or delete its marker
_COMPLETE = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['token'] == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false
"""
_RELEASE = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['token'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisIdempotencyStore:
    def __init__(
        self,
        client: Redis | RedisCluster,
        prefix: str,
        *,
        ttl_s: float = 86400.0,
        in_flight_ttl_s: float = 30.0,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_ms = int(ttl_s * 1000)
        self.in_flight_ms = int(in_flight_ttl_s * 1000)

    async def claim(self, key: str, fp: str) -> Claim:
        name = self.prefix + key
        for _ in range(3):  # the record can expire between SET NX and GET: then try to claim again
            token = secrets.token_hex(8)
            if await self.client.set(name, _pending(fp, token), nx=True, px=self.in_flight_ms):
                return Claim(ClaimState.NEW, token)
            raw = await self.client.get(name)
            if raw is not None:
                return _judge(raw, fp)
        return Claim(ClaimState.IN_FLIGHT)

    async def complete(self, key: str, claim: Claim, fp: str, response: StoredResponse) -> None:
        record = _done(fp, claim.token, response)
        await self.client.eval(_COMPLETE, 1, self.prefix + key, claim.token, record, self.ttl_ms)

    async def release(self, key: str, claim: Claim) -> None:
        await self.client.eval(_RELEASE, 1, self.prefix + key, claim.token)


class MemoryIdempotencyStore:
    """The same protocol in a dict, for embedded mode (one process, so no scripts needed)."""

    def __init__(
        self,
        *,
        ttl_s: float = 86400.0,
        in_flight_ttl_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.in_flight_ttl_s = in_flight_ttl_s
        self._clock = clock
        self._records: dict[str, tuple[bytes, float]] = {}

    def _get(self, key: str) -> bytes | None:
        item = self._records.get(key)
        if item is None or item[1] <= self._clock():
            self._records.pop(key, None)
            return None
        return item[0]

    async def claim(self, key: str, fp: str) -> Claim:
        raw = self._get(key)
        if raw is not None:
            return _judge(raw, fp)
        token = secrets.token_hex(8)
        self._records[key] = (_pending(fp, token), self._clock() + self.in_flight_ttl_s)
        return Claim(ClaimState.NEW, token)

    def _owned(self, key: str, claim: Claim) -> bool:
        raw = self._get(key)
        return raw is not None and orjson.loads(raw)["token"] == claim.token

    async def complete(self, key: str, claim: Claim, fp: str, response: StoredResponse) -> None:
        if self._owned(key, claim):
            self._records[key] = (_done(fp, claim.token, response), self._clock() + self.ttl_s)

    async def release(self, key: str, claim: Claim) -> None:
        if self._owned(key, claim):
            del self._records[key]
