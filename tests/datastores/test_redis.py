"""Redis-specific claims: the history is capped at 50 per user, and the country is frozen into each play."""

from __future__ import annotations

import datetime as dt

import pytest

from datastores import Play, RedisStore, TrackCount, Workload

pytestmark = pytest.mark.integration


async def test_the_recent_list_never_holds_more_than_50_plays(
    redis_store: RedisStore, workload: Workload
) -> None:
    await redis_store.record_plays(workload.plays)
    heaviest = max(workload.country_of, key=lambda u: sum(p.user_id == u for p in workload.plays))
    assert await redis_store.client.llen(redis_store.keys.recent(heaviest)) == 50
    with pytest.raises(ValueError, match="last 50"):
        await redis_store.recent_plays(heaviest, limit=51)


async def test_a_user_who_moves_keeps_old_plays_under_the_old_country(redis_store: RedisStore) -> None:
    """Denormalised at write time: each ZINCRBY used the country of that moment; nothing re-attributes it."""
    at = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    await redis_store.record_play(Play(1, 5, at, "SE"))
    await redis_store.record_play(Play(1, 6, at + dt.timedelta(hours=1), "NO"))
    assert await redis_store.top_tracks_week_country("SE", dt.date(2024, 1, 1)) == [TrackCount(5, 1)]
    assert await redis_store.top_tracks_week_country("NO", dt.date(2024, 1, 1)) == [TrackCount(6, 1)]
    assert await redis_store.client.hget(redis_store.keys.user(1), "country") == b"NO"
