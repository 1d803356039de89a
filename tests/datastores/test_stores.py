"""The shared suite: every operation, on PostgreSQL and on Redis, gives the answers the reference computes.

The reference (``datastores.reference``) is the specification as naive Python over every play; a store that
matches it on the same plays matches the other store too, which ``test_both_stores_answer_alike`` checks head
on.
"""

from __future__ import annotations

import datetime as dt

import pytest

from datastores import (
    Play,
    PostgresStore,
    RedisStore,
    ReferenceStore,
    TrackCount,
    UnknownPlaylistError,
    Workload,
)
from datastores.protocol import ListeningStore, PlayStore

pytestmark = pytest.mark.integration

SINGLES = 200  # the last plays go through record_play one by one, the rest through the bulk path


async def load(store: PlayStore, workload: Workload) -> None:
    await store.record_plays(workload.plays[:-SINGLES])
    for play in workload.plays[-SINGLES:]:
        await store.record_play(play)


async def reference_of(workload: Workload) -> ReferenceStore:
    reference = ReferenceStore()
    await reference.record_plays(workload.plays)
    return reference


def sample_users(workload: Workload) -> list[int]:
    """The heaviest user (over 50 plays), a light one, the one who played last, and one who never played."""
    plays_by_user: dict[int, int] = {}
    for play in workload.plays:
        plays_by_user[play.user_id] = plays_by_user.get(play.user_id, 0) + 1
    ranked = sorted(plays_by_user, key=lambda u: (-plays_by_user[u], u))
    return [ranked[0], ranked[len(ranked) // 2], ranked[-1], workload.plays[-1].user_id, 10**9]


async def test_recent_plays_are_the_users_last_50_newest_first(
    store: ListeningStore, workload: Workload
) -> None:
    await load(store, workload)
    reference = await reference_of(workload)
    heaviest = sample_users(workload)[0]
    assert len(await reference.recent_plays(heaviest)) == 50, "the sample must exercise the cap"
    for user in sample_users(workload):
        assert await store.recent_plays(user) == await reference.recent_plays(user), user
    assert len(await store.recent_plays(heaviest, limit=5)) == 5


async def test_top_tracks_per_week_and_country_match_the_reference(
    store: ListeningStore, workload: Workload
) -> None:
    await load(store, workload)
    reference = await reference_of(workload)
    spec = workload.spec
    weeks = [spec.first_week + dt.timedelta(weeks=i) for i in range(spec.weeks + 1)]  # + a week with no plays
    for week in weeks:
        for country in workload.countries:
            expected = await reference.top_tracks_week_country(country, week)
            assert await store.top_tracks_week_country(country, week) == expected, (week, country)
    assert await store.top_tracks_week_country("US", weeks[-1]) == []
    assert len(await store.top_tracks_week_country("US", spec.last_week, limit=3)) == 3


async def test_users_who_played_both_tracks_match_the_reference(
    store: ListeningStore, workload: Workload
) -> None:
    await load(store, workload)
    reference = await reference_of(workload)
    hits = workload.tracks_by_popularity
    pairs = [*workload.hit_pairs(5), (hits[0], hits[-1]), (hits[3], hits[3]), (hits[0], 10**9)]
    for x, y in pairs:
        assert await store.users_played_both(x, y) == await reference.users_played_both(x, y), (x, y)
    assert await store.users_played_both(hits[0], hits[1]), (
        "hits share listeners: the test compares something"
    )


async def test_ties_at_the_cut_go_to_the_lower_track_id(store: ListeningStore) -> None:
    """12 tracks with 2 plays each and 3 with 3: the top 10 are the 3, then the 7 lowest ids of the 12."""
    at = dt.datetime(2024, 1, 3, 12, tzinfo=dt.UTC)
    counts = dict.fromkeys(range(200, 188, -1), 2) | {7: 3, 900: 3, 50: 3}
    plays = [
        Play(user, track, at + dt.timedelta(seconds=track * 10 + user), "SE")
        for track, n in counts.items()
        for user in range(1, n + 1)
    ]
    await store.record_plays(plays)
    expected = [TrackCount(t, 3) for t in (7, 50, 900)] + [TrackCount(t, 2) for t in range(189, 196)]
    assert await store.top_tracks_week_country("SE", dt.date(2024, 1, 1)) == expected


async def test_follow_and_unfollow_say_whether_anything_changed(store: ListeningStore) -> None:
    await store.create_playlist(1)
    assert await store.follow(1, 10) is True
    assert await store.follow(1, 10) is False
    assert await store.follow(1, 11) is True
    assert await store.unfollow(1, 12) is False
    assert await store.unfollow(1, 10) is True
    state = await store.follower_state(1)
    assert (state.count, state.followers) == (1, frozenset({11}))
    await store.create_playlist(1)  # creating it again keeps its followers
    assert (await store.follower_state(1)).count == 1


async def test_an_unknown_playlist_is_an_error_not_a_new_playlist(store: ListeningStore) -> None:
    with pytest.raises(UnknownPlaylistError):
        await store.follow(404, 1)
    with pytest.raises(UnknownPlaylistError):
        await store.follower_state(404)


async def test_both_stores_answer_alike(
    postgres_store: PostgresStore, redis_store: RedisStore, workload: Workload
) -> None:
    """Head to head on the same plays: each operation, the same answer from each store."""
    for store in (postgres_store, redis_store):
        await load(store, workload)
    for user in sample_users(workload):
        assert await postgres_store.recent_plays(user) == await redis_store.recent_plays(user)
    for country in workload.countries:
        week = workload.spec.last_week
        pg = await postgres_store.top_tracks_week_country(country, week)
        assert pg == await redis_store.top_tracks_week_country(country, week)
    for x, y in workload.hit_pairs(5):
        assert await postgres_store.users_played_both(x, y) == await redis_store.users_played_both(x, y)
