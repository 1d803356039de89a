"""``POST /v2/me/plays``: record a listen and, in the same transaction, the event that announces it (Q9).

The transactional outbox: the play and its outbox row commit or roll back together, so there is never a play
without its event nor an event for a play that did not happen, which writing to the database and then to a
broker (two systems, no shared transaction) cannot promise. ``catalog/relay.py`` publishes the outbox to a
Redis Stream afterwards; the 202 says exactly that: recorded now, delivered to other services soon.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import idempotency
from catalog.auth import require_scope
from catalog.deps import MAX_ID, PrincipalDep, StateDep, V2Session
from catalog.errors import not_found
from catalog.events import PLAYS_TOPIC, play_event
from catalog.models import OutboxEvent, Play, Track
from catalog.profiles import ensure_profile

router = APIRouter(prefix="/v2", tags=["v2: optimised"])


class NewPlay(BaseModel):
    model_config = ConfigDict(extra="forbid")
    track_id: int = Field(ge=1, le=MAX_ID)


class PlayAccepted(BaseModel):
    event_id: uuid.UUID


async def record_play(
    session: AsyncSession, user_id: int, track_id: int, played_at: dt.datetime
) -> uuid.UUID:
    """Insert the play and its outbox row; the caller owns the transaction, so both or neither commit."""
    event_id = uuid.uuid4()
    await session.execute(insert(Play).values(user_id=user_id, track_id=track_id, played_at=played_at))
    payload = play_event(event_id, user_id, track_id, played_at)
    # created_at from the same clock as played_at: the relay publishes in this order
    outbox = {"id": event_id, "topic": PLAYS_TOPIC, "payload": payload, "created_at": played_at}
    await session.execute(insert(OutboxEvent).values(outbox))
    return event_id


@router.post("/me/plays", status_code=202, response_model=PlayAccepted)
async def add_play(
    request: Request, body: NewPlay, principal: PrincipalDep, state: StateDep, session: V2Session
) -> Response:
    """The caller listened to a track: 202 with the event id, delivered to the recommender asynchronously.

    With an ``Idempotency-Key`` a retried report replays the first 202: one play, one event.
    """
    require_scope(principal, state.settings.write_scope)
    keyed = await idempotency.keyed_request(request, principal.user_id)
    async with session.begin():
        if keyed and (replay := await idempotency.claim(session, keyed)) is not None:
            return replay
        await ensure_profile(session, principal.user_id)
        if (await session.execute(select(Track.id).where(Track.id == body.track_id))).first() is None:
            raise not_found("track", body.track_id)
        event_id = await record_play(session, principal.user_id, body.track_id, dt.datetime.now(dt.UTC))
        accepted = PlayAccepted(event_id=event_id).model_dump_json().encode()
        response = Response(accepted, status_code=202, media_type="application/json")
        if keyed:
            await idempotency.record(session, keyed, response)  # the key commits with the play and its event
    return response
