"""Pure logic of the Redis store: key slots for multi-key commands, entries, and ties at the cut."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot

from datastores.model import Play, RecentPlay, rank_tracks
from datastores.redis_store import RedisKeys, parse_recent, recent_entry, top_with_ties


@pytest.mark.unit
def test_keys_that_one_command_or_script_touches_share_a_cluster_slot() -> None:
    keys = RedisKeys("ds:")
    assert key_slot(keys.listeners(1).encode()) == key_slot(keys.listeners(987_654).encode())  # SINTER
    assert key_slot(keys.playlist(42).encode()) == key_slot(keys.followers(42).encode())  # the Lua script
    assert key_slot(keys.playlist(42).encode()) != key_slot(keys.playlist(43).encode()), (
        "playlists spread out"
    )


@pytest.mark.unit
def test_a_prefix_with_its_own_hash_tag_keeps_every_key_in_its_slot() -> None:
    keys = RedisKeys("{t_abc}:")
    slots = {
        key_slot(k.encode()) for k in (keys.recent(1), keys.listeners(2), keys.playlist(3), keys.user(4))
    }
    assert slots == {key_slot(b"t_abc")}


@pytest.mark.unit
def test_a_recent_entry_keeps_track_and_millisecond_time() -> None:
    at = dt.datetime(2024, 3, 4, 5, 6, 7, 890_000, tzinfo=dt.UTC)
    entry = recent_entry(Play(1, 77, at, "SE"))
    assert entry == "77:1709528767890"
    assert parse_recent(entry.encode()) == RecentPlay(77, at)


def redis_order(counts: dict[int, int]) -> list[tuple[bytes, float]]:
    """What ZRANGE .. REV WITHSCORES returns: score descending, equal scores by member bytes descending."""
    members = [(str(track).encode(), float(n)) for track, n in counts.items()]
    return sorted(members, key=lambda m: (m[1], m[0]), reverse=True)


@pytest.mark.property
@given(
    counts=st.dictionaries(st.integers(1, 10_000), st.integers(1, 6), max_size=40),
    limit=st.integers(1, 12),
)
def test_the_top_list_from_redis_ranks_like_the_specification_whatever_the_ties(
    counts: dict[int, int], limit: int
) -> None:
    """Given Redis's own order and, when the cut splits a tie, the whole tied group: the reference ranking."""
    everything = redis_order(counts)
    head = everything[: limit + 1]
    tied = []
    if len(head) > limit and head[limit][1] == head[limit - 1][1]:
        tied = [member for member, score in everything if score == head[limit - 1][1]]
    assert top_with_ties(head, tied, limit) == rank_tracks(counts, limit)
