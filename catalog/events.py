"""Play events as the rest of the system sees them (API.md, "Play events"): plain string fields.

The catalog stores exactly these fields as the outbox row's payload, and the relay copies them into the Redis
Stream entry unchanged, so what a consumer reads is what the transaction committed. ``event_id`` is the
outbox row's primary key: a redelivered entry carries the same id, and consumers dedupe by it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from catalog.schemas import iso

PLAYS_TOPIC = "plays"
FIELDS = ("event_id", "user_id", "item_id", "count", "played_at")


def play_event(event_id: uuid.UUID, user_id: int, track_id: int, played_at: dt.datetime) -> dict[str, str]:
    """The stream fields of one play: catalog ids as decimal strings, the time in ISO 8601 UTC."""
    return {
        "event_id": str(event_id),
        "user_id": str(user_id),
        "item_id": str(track_id),
        "count": "1",
        "played_at": iso(played_at),
    }
