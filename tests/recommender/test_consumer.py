"""The play-stream consumer on real Redis, fed with XADD as the catalog's relay would (API.md's contract).

Claims: each event's effect happens once however often it is delivered; entries pending at a crash are applied
after a restart; a dead consumer's entries are claimed; bad entries are acknowledged, not retried forever; the
user's cached list is invalidated.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from recommender.consumer import ConsumerSettings, PlayConsumer, parse
from tests.recommender.serving_support import item_ids, serving, settings
from tests.support.servers import PrivateRedis, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    connection = aioredis.Redis.from_url(redis_url)
    yield connection
    await connection.aclose()


def consumer_settings(prefix: str, name: str = "c1", **extra: Any) -> ConsumerSettings:
    return ConsumerSettings(
        redis_prefix=prefix, plays_stream=f"{prefix}plays", consumer_name=name, block_ms=10, **extra
    )


async def publish(
    client: aioredis.Redis, prefix: str, user: str, item: str, event_id: str | None = None
) -> str:
    event = event_id or str(uuid.uuid4())
    fields = {
        "event_id": event,
        "user_id": user,
        "item_id": item,
        "count": "1",
        "played_at": "2026-01-01T00:00:00Z",
    }
    await client.xadd(f"{prefix}plays", fields)  # type: ignore[arg-type]
    return event


async def online(consumer: PlayConsumer, user: str) -> dict[str, float]:
    history = await consumer.history.get(user)
    assert history is not None
    return history.plays


async def pending(client: aioredis.Redis, prefix: str) -> int:
    summary = await client.xpending(f"{prefix}plays", "recommender")
    return int(summary["pending"])


async def test_a_redelivered_event_is_applied_once(client: aioredis.Redis, redis_prefix: str) -> None:
    """The relay publishes the same event twice (crash after XADD): one play counted, both entries acked."""
    consumer = PlayConsumer(client, consumer_settings(redis_prefix))
    await consumer.ensure_group()
    event = await publish(client, redis_prefix, "7", "42")
    await publish(client, redis_prefix, "7", "42", event_id=event)
    await publish(client, redis_prefix, "7", "43")
    assert await consumer.read(">", None) == 3
    assert await online(consumer, "7") == {"42": 1.0, "43": 1.0}
    assert await pending(client, redis_prefix) == 0


async def test_entries_pending_at_a_crash_are_applied_after_the_restart(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    """Delivered to c1, never acked (c1 died): the restarted c1 re-reads its pending list first."""
    settings_c1 = consumer_settings(redis_prefix, "c1")
    await PlayConsumer(client, settings_c1).ensure_group()
    await publish(client, redis_prefix, "8", "5")
    await client.xreadgroup("recommender", "c1", {f"{redis_prefix}plays": ">"})  # delivered, then the crash
    assert await pending(client, redis_prefix) == 1
    restarted = PlayConsumer(client, settings_c1)
    assert await restarted.drain_pending() == 1
    assert await online(restarted, "8") == {"5": 1.0}
    assert await pending(client, redis_prefix) == 0


async def test_a_dead_consumers_entries_are_claimed(client: aioredis.Redis, redis_prefix: str) -> None:
    """c2 took an entry and vanished; c1 claims it with XAUTOCLAIM once it has been idle long enough."""
    await PlayConsumer(client, consumer_settings(redis_prefix, "c1")).ensure_group()
    await publish(client, redis_prefix, "9", "6")
    await client.xreadgroup("recommender", "c2", {f"{redis_prefix}plays": ">"})
    survivor = PlayConsumer(client, consumer_settings(redis_prefix, "c1", claim_idle_ms=1))
    await asyncio.sleep(0.02)  # idle past claim_idle_ms
    assert await survivor.claim_abandoned() == 1
    assert await online(survivor, "9") == {"6": 1.0}
    assert await pending(client, redis_prefix) == 0


async def test_unknown_items_and_malformed_entries_are_acked_not_applied(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    consumer = PlayConsumer(client, consumer_settings(redis_prefix), knows_item=lambda item: item != "999")
    await consumer.ensure_group()
    await publish(client, redis_prefix, "10", "999")
    await client.xadd(f"{redis_prefix}plays", {"user_id": "10"})  # no event id, no item
    outcomes = []
    reply: Any = await client.xreadgroup("recommender", "c1", {f"{redis_prefix}plays": ">"})
    for entry_id, fields in reply[0][1]:
        outcomes.append(await consumer.handle(entry_id, fields))
    assert outcomes == ["unknown_item", "malformed"]
    assert await online(consumer, "10") == {}
    assert await pending(client, redis_prefix) == 0


def test_parse_refuses_what_the_contract_does_not_allow() -> None:
    good = {b"event_id": b"e", b"user_id": b"1", b"item_id": b"2", b"count": b"1"}
    assert parse(good) is not None
    assert parse(None) is None
    assert parse({**good, b"user_id": b"x"}) is None
    assert parse({**good, b"count": b"0"}) is None
    assert parse({**good, b"count": b"nan"}) is None


async def test_a_consumed_play_invalidates_the_users_cached_list(
    served_models: Path, redis_url: str, redis_prefix: str, client: aioredis.Redis
) -> None:
    """The service caches user 4's list; the consumer applies a play of its top item; the next read is new."""
    config = settings(
        served_models,
        mode="services",
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        plays_stream=f"{redis_prefix}plays",
    )
    consumer = PlayConsumer(client, consumer_settings(redis_prefix))
    await consumer.ensure_group()
    async with serving(config) as (_app, service):
        first = await service.get("/users/4/recommendations?k=10")
        top = item_ids(first.json())[0]
        assert (await service.get("/users/4/recommendations?k=10")).headers["x-cache"] == "hit"
        await publish(client, redis_prefix, "4", top)
        assert await consumer.read(">", None) == 1
        after = await service.get("/users/4/recommendations?k=10")
    assert after.headers["x-cache"] == "miss"
    assert top not in item_ids(after.json())


async def test_the_run_loop_applies_new_events_and_stops_on_request(
    client: aioredis.Redis, redis_prefix: str
) -> None:
    """run(): group created, new entries applied as they arrive, the loop ends once stop is set."""
    consumer = PlayConsumer(client, consumer_settings(redis_prefix))
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.sleep(0.05)
    await publish(client, redis_prefix, "11", "3")
    plays: dict[str, float] = {}
    for _ in range(100):
        plays = await online(consumer, "11")
        if plays:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert plays == {"3": 1.0}
    assert await pending(client, redis_prefix) == 0


async def test_the_consumer_waits_out_a_redis_restart(private_redis: PrivateRedis) -> None:
    """Redis dies under the running loop and comes back empty: the consumer recreates its group, goes on."""
    connection = aioredis.Redis.from_url(private_redis.url, socket_timeout=1)
    consumer = PlayConsumer(connection, consumer_settings("r:"))
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await asyncio.sleep(0.1)
        private_redis.kill()
        await asyncio.sleep(0.3)
        private_redis.start()
        plays: dict[str, float] = {}
        await publish(connection, "r:", "12", "4")  # the group is recreated from "0": this entry is read
        for _ in range(150):
            history = await consumer.history.get("12")
            plays = history.plays if history else {}
            if plays:
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        await connection.aclose()
    assert plays == {"4": 1.0}


def test_the_consumer_process_serves_health_and_applies_events(redis_url: str, redis_prefix: str) -> None:
    """``python -m recommender.consumer --port P``: /healthz answers on P (the compose healthcheck), and an
    XADDed event reaches the history."""
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "PLAYS_STREAM": f"{redis_prefix}plays"}
    env["RECOMMENDER_REDIS_PREFIX"] = redis_prefix
    process = subprocess.Popen(
        [sys.executable, "-m", "recommender.consumer", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis.from_url(redis_url)
    try:
        status = 0
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    status = response.status
                break
            except OSError:
                time.sleep(0.1)
        fields = {"event_id": "p1", "user_id": "13", "item_id": "9", "count": "2", "played_at": "x"}
        client.xadd(f"{redis_prefix}plays", fields)  # type: ignore[arg-type]
        history_key = f"{redis_prefix}{{{redis_prefix}plays}}:hist:13"
        played = None
        for _ in range(150):
            played = client.hget(history_key, "9")
            if played is not None:
                break
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)
        client.close()
    assert status == 200
    assert played is not None
    assert float(played) == 2.0
