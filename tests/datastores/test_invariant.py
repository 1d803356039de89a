"""A playlist's follower count equals its followers under concurrent follow/unfollow: kept by a PostgreSQL
transaction and by a Redis Lua script, broken by the naive Redis read-modify-write."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from datastores import (
    InvariantSpec,
    NaiveRedisFollowers,
    PostgresStore,
    RedisStore,
    ReferenceStore,
    run_invariant,
)
from datastores.invariant import operations

# few playlists, few users, many calls in flight: every playlist sees overlapping calls all the time
CONTENDED = InvariantSpec(playlists=4, users=20, operations=600, concurrency=32)


@pytest.mark.unit
async def test_the_harness_finds_no_violation_where_there_is_no_concurrency_to_break_anything() -> None:
    report = await run_invariant(ReferenceStore(), CONTENDED)
    assert (report.violations, report.drift) == (0, 0)
    assert report.changes > CONTENDED.operations // 3, "calls change state, not only no-ops"


@pytest.mark.unit
def test_every_store_gets_the_same_calls() -> None:
    assert list(operations(CONTENDED)) == list(operations(CONTENDED))
    assert {playlist for playlist, _, _ in operations(CONTENDED)} == {1, 2, 3, 4}


@pytest.mark.integration
async def test_a_postgresql_transaction_keeps_the_count_equal_to_the_followers(
    postgres_store: PostgresStore,
) -> None:
    report = await run_invariant(postgres_store, CONTENDED)
    assert (report.violations, report.drift) == (0, 0)


@pytest.mark.integration
async def test_a_redis_lua_script_keeps_the_count_equal_to_the_followers(redis_store: RedisStore) -> None:
    report = await run_invariant(redis_store, CONTENDED)
    assert (report.violations, report.drift) == (0, 0)


@pytest.mark.integration
async def test_naive_redis_read_modify_write_breaks_the_invariant_under_concurrency(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    """Same keys, same calls as the Lua version: only atomicity is missing, and counts drift from the sets."""
    report = await run_invariant(NaiveRedisFollowers(redis_client, redis_prefix), CONTENDED)
    assert report.violations > 0
    assert report.drift > 0


@pytest.mark.integration
async def test_naive_redis_is_correct_when_calls_never_overlap(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    """The bug is the race, not the arithmetic: one call at a time, the naive code keeps the invariant."""
    sequential = InvariantSpec(playlists=4, users=20, operations=300, concurrency=1)
    report = await run_invariant(NaiveRedisFollowers(redis_client, redis_prefix), sequential)
    assert (report.violations, report.drift) == (0, 0)
