"""The idempotency store on real Redis (and its in-memory twin): claim, replay, mismatch, release."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from gateway.idempotency import (
    ClaimState,
    IdempotencyStore,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    StoredResponse,
    fingerprint,
    scoped_key,
)

ANSWER = StoredResponse(201, [("content-type", "application/json")], b'{"id": 1}')


@pytest.fixture
async def redis_store(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisIdempotencyStore]:
    client = aioredis.Redis.from_url(redis_url)
    yield RedisIdempotencyStore(client, f"{redis_prefix}idem:", ttl_s=60, in_flight_ttl_s=5)
    await client.aclose()


async def check_protocol(store: IdempotencyStore) -> None:
    key = scoped_key("user-1", "k-1")
    fp = fingerprint("POST", "/v2/playlists", "", b'{"name": "a"}')
    first = await store.claim(key, fp)
    assert first.state is ClaimState.NEW
    assert (await store.claim(key, fp)).state is ClaimState.IN_FLIGHT
    assert (
        await store.claim(key, fingerprint("POST", "/v2/playlists", "", b"other"))
    ).state is ClaimState.MISMATCH
    await store.complete(key, first, fp, ANSWER)
    replay = await store.claim(key, fp)
    assert replay.state is ClaimState.REPLAY
    assert replay.response == ANSWER
    assert (await store.claim(scoped_key("user-2", "k-1"), fp)).state is ClaimState.NEW  # keys are per caller
    released = scoped_key("user-1", "k-2")
    claim = await store.claim(released, fp)
    await store.release(released, claim)
    assert (await store.claim(released, fp)).state is ClaimState.NEW


@pytest.mark.integration
async def test_the_redis_store_claims_once_replays_refuses_reuse_and_releases(
    redis_store: RedisIdempotencyStore,
) -> None:
    await check_protocol(redis_store)


@pytest.mark.unit
async def test_the_memory_twin_follows_the_same_protocol() -> None:
    await check_protocol(MemoryIdempotencyStore())


@pytest.mark.integration
async def test_a_stale_claimant_cannot_overwrite_a_newer_claim(redis_store: RedisIdempotencyStore) -> None:
    """Once the marker expired and another request claimed the key, the old claimant's answer is dropped."""
    key, fp = scoped_key("u", "k"), "fp"
    stale = await redis_store.claim(key, fp)
    await redis_store.client.delete(redis_store.prefix + key)  # the marker's TTL ran out
    fresh = await redis_store.claim(key, fp)
    await redis_store.complete(key, stale, fp, ANSWER)
    assert (await redis_store.claim(key, fp)).state is ClaimState.IN_FLIGHT
    await redis_store.complete(key, fresh, fp, ANSWER)
    assert (await redis_store.claim(key, fp)).state is ClaimState.REPLAY
