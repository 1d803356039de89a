"""Helpers for the relay tests: relay settings on a test schema and stream, outbox rows, stream contents."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy import Engine, func, insert, select

from catalog.events import PLAYS_TOPIC, play_event
from catalog.models import OutboxEvent
from catalog.relay import RelaySettings

FAST: dict[str, Any] = {"poll_interval_s": 0.02, "retry_initial_s": 0.02, "retry_max_s": 0.2}


def relay_settings(
    database_url: str, schema: str, redis_url: str, stream: str, **overrides: Any
) -> RelaySettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "schema_name": schema,
        "redis_url": redis_url,
        "stream": stream,
        **FAST,
        **overrides,
    }
    return RelaySettings(**values)


def add_events(engine: Engine, count: int) -> list[str]:
    """``count`` committed play events, oldest first (as ``record_play`` writes them); their ids."""
    start = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(count):
        event_id, at = uuid.uuid4(), start + dt.timedelta(microseconds=i)
        payload = play_event(event_id, 1 + i % 7, 1 + i, at)
        rows.append({"id": event_id, "topic": PLAYS_TOPIC, "payload": payload, "created_at": at})
    with engine.begin() as conn:
        conn.execute(insert(OutboxEvent), rows)
    return [str(row["id"]) for row in rows]


def unpublished(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        return int(conn.execute(query).scalar_one())


def stream_events(client: redis.Redis, stream: str) -> list[dict[str, str]]:
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(stream)  # type: ignore[assignment]
    return [{key.decode(): value.decode() for key, value in fields.items()} for _id, fields in entries]


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(0.02)
