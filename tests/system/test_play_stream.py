"""The play-event consumer killed with SIGKILL mid-stream and restarted: no play lost, none applied twice.

Against the contract of API.md: entries on the ``plays`` stream carry ``event_id``, ``user_id``, ``item_id``,
``count`` and ``played_at``; the ``recommender`` group reads them; the effect is exactly once per event id on
at-least-once delivery. The test publishes into a stream of its own (``PLAYS_STREAM``, under the test's Redis
prefix), including events the relay published twice, starts ``python -m recommender.consumer`` as a process,
kills it while it is part-way through, publishes more while it is dead, restarts it under the same consumer
name (so it re-reads what it was given but never acknowledged), and then compares every user's online
history with the sum of the distinct events.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from recommender.consumer import GROUP
from recommender.history import GENERATION, RedisHistory
from tests.support import isolation
from tests.system.processes import ServiceProcess

pytestmark = pytest.mark.integration

USERS, ITEMS = 25, 60
BEFORE_KILL, WHILE_DEAD = 1500, 500
DUPLICATE_EVERY = 20  # every 20th event is published twice, as a relay that crashed before marking it would


def events(count: int, rng: random.Random) -> list[dict[str, str]]:
    played_at = dt.datetime.now(dt.UTC).isoformat()
    return [
        {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "user_id": str(rng.randint(1, USERS)),
            "item_id": str(rng.randint(1, ITEMS)),
            "count": "1",
            "played_at": played_at,
        }
        for _ in range(count)
    ]


def publish(client: redis.Redis, stream: str, batch: list[dict[str, str]]) -> int:
    """XADD each event (every ``DUPLICATE_EVERY``-th twice); returns the entries written."""
    pipe = client.pipeline(transaction=False)
    written = 0
    for i, event in enumerate(batch):
        for _ in range(2 if i % DUPLICATE_EVERY == 0 else 1):
            pipe.xadd(stream, event)  # type: ignore[arg-type] # str fields are what redis-py sends
            written += 1
    pipe.execute()
    return written


def group_state(client: redis.Redis, stream: str) -> tuple[int, int]:
    """(entries the group has read, entries delivered but not acknowledged)."""
    groups = client.xinfo_groups(stream)
    ours = next((g for g in groups if g["name"] in {GROUP, GROUP.encode()}), None)
    if ours is None:
        return 0, 0
    return int(ours.get("entries-read") or 0), int(ours["pending"])


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    with isolation.temporary_key_prefix(redis_url) as key_prefix:
        yield key_prefix


def test_a_consumer_killed_mid_stream_and_restarted_applies_every_play_exactly_once(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    stream = f"{prefix}plays"
    rng = random.Random(11)
    client = redis.Redis.from_url(redis_url)
    env = {
        "REDIS_URL": redis_url,
        "PLAYS_STREAM": stream,
        "RECOMMENDER_REDIS_PREFIX": f"{prefix}recommender:",
        "RECOMMENDER_CONSUMER_NAME": "consumer-1",  # the restarted process takes over its own pending entries
        "RECOMMENDER_BATCH": "10",  # small batches: a kill lands mid-stream with entries in flight
        "RECOMMENDER_BLOCK_MS": "200",
        "RECOMMENDER_MODELS_DIR": str(tmp_path / "no-models"),  # no artifact: every item id is accepted
        "LOG_LEVEL": "INFO",
    }
    consumer = ServiceProcess("consumer", env, tmp_path, module="recommender.consumer")
    first, later = events(BEFORE_KILL, rng), events(WHILE_DEAD, rng)
    written = publish(client, stream, first)
    try:
        consumer.start()
        deadline = time.monotonic() + 30
        while group_state(client, stream)[0] < written // 10:
            assert consumer.running, consumer.log_tail()
            assert time.monotonic() < deadline, f"the consumer read nothing:\n{consumer.log_tail()}"
            time.sleep(0.01)
        consumer.kill()
        read_at_kill, _ = group_state(client, stream)
        assert read_at_kill < written, "the consumer finished before the kill: the test proved nothing"

        written += publish(client, stream, later)  # the relay keeps publishing while the consumer is down
        consumer.start()
        deadline = time.monotonic() + 60
        while group_state(client, stream) != (written, 0):
            assert consumer.running, consumer.log_tail()
            assert time.monotonic() < deadline, f"not drained: {group_state(client, stream)}"
            time.sleep(0.05)
    finally:
        consumer.stop()

    expected: dict[str, Counter[str]] = {}
    for event in first + later:
        expected.setdefault(event["user_id"], Counter())[event["item_id"]] += 1
    history = RedisHistory(aioredis.Redis.from_url(redis_url), prefix=f"{prefix}recommender:", stream=stream)
    for user, plays in expected.items():
        raw: dict[bytes, bytes] = client.hgetall(history.history_key(user))  # type: ignore[assignment] # sync client
        got = {k.decode(): float(v) for k, v in raw.items() if k.decode() != GENERATION}
        assert got == {item: float(n) for item, n in plays.items()}, f"user {user}"
        assert int(raw[GENERATION.encode()]) == sum(plays.values())  # one generation bump per distinct event
    client.close()
