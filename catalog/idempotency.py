"""``Idempotency-Key`` honoured where the side effect happens: the key commits with the effect, or neither.

The gateway dedupes a client's replays, but its own retry after a lost answer reaches the catalog as a second
request, and only the service that owns the side effect can tell "already done" from "not done" for sure.
So, as in Stripe's design, the key is recorded in the *same transaction* as the effect:

1. ``claim`` inserts ``(user_id, key, fingerprint)`` with ``ON CONFLICT DO NOTHING`` first thing in the
   transaction. A concurrent duplicate blocks on the unique index until the first transaction ends (that is
   PostgreSQL's own row lock, no polling); if the first committed, the insert does nothing and the committed
   row is read back and replayed; if it rolled back, the insert wins and this request acts.
2. ``record`` stores the response (status, ``Location``, body) before the commit, so a committed key always
   carries its answer. A request that fails (4xx) rolls back, key included: retrying it acts afresh.
3. The same key with another fingerprint (method, path, body) is refused with 422 ``idempotency_key_reused``.

Keys live 24 hours (``KEY_TTL``, the IETF httpapi draft's advice and Stripe's): an older row is deleted by the
next ``claim`` of that key, so the key acts again, and ``purge_expired`` deletes the rest in bulk (every
instance calls it hourly: ``housekeeping.py``). A replay carries ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, cast

from fastapi import Request, Response
from sqlalchemy import CursorResult, Insert, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from catalog.models import IdempotencyKey
from observability import ApiError

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEY_TTL = dt.timedelta(hours=24)


@dataclass(frozen=True)
class KeyedRequest:
    user_id: int
    key: str
    fingerprint: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode()):
        digest.update(part + b"\x00")
    digest.update(body)
    return digest.hexdigest()


async def keyed_request(request: Request, user_id: int) -> KeyedRequest | None:
    """The request's key and fingerprint, or ``None`` without an ``Idempotency-Key`` (normal behaviour)."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(400, "bad_idempotency_key", f"Idempotency-Key is at most {MAX_KEY_LENGTH} characters")
    body = await request.body()  # already read (and cached) by FastAPI to parse the JSON body
    return KeyedRequest(user_id, key, fingerprint(request.method, request.url.path, body))


def _insert_if_absent(session: AsyncSession, values: dict[str, object]) -> ReturningInsert[tuple[str]]:
    if session.get_bind().dialect.name == "sqlite":  # embedded mode
        statement: Insert = sqlite.insert(IdempotencyKey).values(values).on_conflict_do_nothing()
    else:
        statement = postgresql.insert(IdempotencyKey).values(values).on_conflict_do_nothing()
    return statement.returning(IdempotencyKey.key)


def _replay(status: int, row: IdempotencyKey) -> Response:
    headers = {REPLAYED: "true"}
    if row.response_location:
        headers["Location"] = row.response_location
    return Response(row.response_body, status_code=status, media_type="application/json", headers=headers)


async def claim(session: AsyncSession, keyed: KeyedRequest) -> Response | None:
    """In the caller's transaction: ``None`` if this request owns the key and must act, else the replay."""
    now = dt.datetime.now(dt.UTC)
    this_key = (IdempotencyKey.user_id == keyed.user_id) & (IdempotencyKey.key == keyed.key)
    await session.execute(delete(IdempotencyKey).where(this_key, IdempotencyKey.created_at < now - KEY_TTL))
    values = {"user_id": keyed.user_id, "key": keyed.key, "fingerprint": keyed.fingerprint, "created_at": now}
    try:
        inserted = (await session.execute(_insert_if_absent(session, values))).first() is not None
    except IntegrityError as exc:  # not the key (ON CONFLICT absorbs that): still a client-visible 409
        raise ApiError(409, "idempotency_conflict", "the request conflicted; retry it") from exc
    if inserted:
        return None
    row = (await session.execute(select(IdempotencyKey).where(this_key))).scalar_one_or_none()
    status = row.response_status if row else None
    if row is None or status is None:
        # purged or expired between the conflict and this read: rare, and safe to retry
        raise ApiError(409, "idempotency_key_in_use", "this Idempotency-Key is being processed; retry")
    if row.fingerprint != keyed.fingerprint:
        raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
    return _replay(status, row)


async def record(session: AsyncSession, keyed: KeyedRequest, response: Response) -> None:
    """Store the answer on the claimed row, before the caller's transaction commits."""
    this_key = (IdempotencyKey.user_id == keyed.user_id) & (IdempotencyKey.key == keyed.key)
    await session.execute(
        update(IdempotencyKey)
        .where(this_key)
        .values(
            response_status=response.status_code,
            response_location=response.headers.get("location"),
            response_body=bytes(response.body),
        )
    )


async def purge_expired(session: AsyncSession, now: dt.datetime | None = None) -> int:
    """Delete keys past ``KEY_TTL``; the caller commits. Returns how many went."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - KEY_TTL
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return int(cast("CursorResult[Any]", result).rowcount)
