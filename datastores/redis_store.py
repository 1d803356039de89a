"""The workload on Redis: one structure per access pattern, each answer maintained at write time.

- a user's last 50 plays: capped list ``recent:<user>``; ``LPUSH`` + ``LTRIM 0 49`` per play, ``LRANGE``.
- top tracks per week and country: sorted set ``top:<week>:<country>``; ``ZINCRBY`` per play, ``ZRANGE REV``.
- users who played X and Y: a set of user ids ``{listeners}:<track>``; ``SADD`` per play, ``SINTER``.
- user metadata: hash ``user:<user>`` (``HSET country``).
- playlist followers: hash ``playlist:{<id>}`` (the count) + set ``playlist:{<id>}:followers``, changed by
  one Lua script, read in one ``MULTI``.

The price is paid on every write (four structures, one pipelined round trip, not atomic across them) and in
memory, and the questions are fixed in advance: a new one ("top tracks per city") needs a new structure and
a backfill. The list keeps only 50 plays per user, in arrival order; the full history lives elsewhere. Keys
that a multi-key command or script touches share a hash tag (``{listeners}``, ``{<playlist id>}``), so the
same code runs on Redis Cluster
(https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import cast

import redis.asyncio as aioredis

from datastores.model import (
    RECENT_LIMIT,
    TOP_LIMIT,
    FollowerState,
    Play,
    RecentPlay,
    TrackCount,
    UnknownPlaylistError,
    epoch_ms,
    from_epoch_ms,
    rank_tracks,
    week_start,
)

BULK_CHUNK = 20_000  # plays per pipeline when bulk loading: the bigger, the more commands merge per key

# KEYS[1] playlist hash, KEYS[2] its follower set; ARGV[1] user, ARGV[2] +1 (follow) or -1 (unfollow).
# A script runs with no other command in between (https://redis.io/docs/latest/develop/interact/programmability/),
# so membership and counter change together; -1 means the playlist does not exist.
CHANGE_FOLLOWER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local changed
if tonumber(ARGV[2]) > 0 then
  changed = redis.call('SADD', KEYS[2], ARGV[1])
else
  changed = redis.call('SREM', KEYS[2], ARGV[1])
end
if changed == 1 then redis.call('HINCRBY', KEYS[1], 'followers', ARGV[2]) end
return changed
"""


class RedisKeys:
    """Key names under a prefix (which may carry its own hash tag, as the test fixtures' prefixes do)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def recent(self, user_id: int) -> str:
        return f"{self.prefix}recent:{user_id}"

    def top(self, week: dt.date, country: str) -> str:
        return f"{self.prefix}top:{week.isoformat()}:{country}"

    def listeners(self, track_id: int) -> str:
        # one tag for every track's set: SINTER of any two must find both in one slot
        return f"{self.prefix}{{listeners}}:{track_id}"

    def user(self, user_id: int) -> str:
        return f"{self.prefix}user:{user_id}"

    def playlist(self, playlist_id: int) -> str:
        return f"{self.prefix}playlist:{{{playlist_id}}}"

    def followers(self, playlist_id: int) -> str:
        return f"{self.prefix}playlist:{{{playlist_id}}}:followers"


def text_of(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def recent_entry(play: Play) -> str:
    return f"{play.track_id}:{epoch_ms(play.played_at)}"


def parse_recent(entry: bytes | str) -> RecentPlay:
    track, _, ms = text_of(entry).partition(":")
    return RecentPlay(int(track), from_epoch_ms(int(ms)))


def top_with_ties(
    head: Sequence[tuple[bytes | str, float]], tied: Sequence[bytes | str], limit: int
) -> list[TrackCount]:
    """Rank ``head`` (the first ``limit + 1`` entries by score) plus, when the cut falls inside a group of
    equal scores, that whole group ``tied``: Redis orders equal scores by member bytes, we promise the lower
    track id first.
    """
    counts = {int(text_of(member)): round(score) for member, score in head}
    if len(head) > limit and head[limit][1] == head[limit - 1][1]:
        boundary = round(head[limit - 1][1])
        counts = {track: plays for track, plays in counts.items() if plays > boundary}
        counts.update({int(text_of(member)): boundary for member in tied})
    return rank_tracks(counts, limit)


class RedisStore:
    name = "redis"

    def __init__(self, client: aioredis.Redis, prefix: str = "datastores:") -> None:
        self.client = client
        self.keys = RedisKeys(prefix)
        self._change_follower = client.register_script(CHANGE_FOLLOWER)

    async def record_play(self, play: Play) -> None:
        """One round trip; ``transaction=False`` because the keys live in different slots on a cluster."""
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        pipe.lpush(k.recent(play.user_id), recent_entry(play))
        pipe.ltrim(k.recent(play.user_id), 0, RECENT_LIMIT - 1)
        pipe.zincrby(k.top(week_start(play.played_at), play.country), 1, str(play.track_id))
        pipe.sadd(k.listeners(play.track_id), str(play.user_id))
        pipe.hset(k.user(play.user_id), "country", play.country)
        await pipe.execute()

    async def record_plays(self, plays: Sequence[Play]) -> None:
        """The same end state as ``record_play`` per play, with the commands of a chunk merged per key."""
        for start in range(0, len(plays), BULK_CHUNK):
            await self._record_chunk(plays[start : start + BULK_CHUNK])

    async def _record_chunk(self, plays: Sequence[Play]) -> None:
        recent: dict[int, list[str]] = defaultdict(list)
        top: dict[tuple[dt.date, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        listeners: dict[int, set[str]] = defaultdict(set)
        country_of: dict[int, str] = {}
        for play in plays:
            recent[play.user_id].append(recent_entry(play))
            top[week_start(play.played_at), play.country][play.track_id] += 1
            listeners[play.track_id].add(str(play.user_id))
            country_of[play.user_id] = play.country
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        for user, entries in recent.items():
            pipe.lpush(k.recent(user), *entries[-RECENT_LIMIT:])  # LPUSH a b c leaves c at the head
            pipe.ltrim(k.recent(user), 0, RECENT_LIMIT - 1)
        for (week, country), counts in top.items():
            for track, n in counts.items():
                pipe.zincrby(k.top(week, country), n, str(track))
        for track, users in listeners.items():
            pipe.sadd(k.listeners(track), *users)
        for user, code in country_of.items():
            pipe.hset(k.user(user), "country", code)
        await pipe.execute()

    async def recent_plays(self, user_id: int, limit: int = RECENT_LIMIT) -> list[RecentPlay]:
        if limit > RECENT_LIMIT:
            raise ValueError(f"the Redis list keeps only the last {RECENT_LIMIT} plays")
        entries = await self.client.lrange(self.keys.recent(user_id), 0, limit - 1)
        return [parse_recent(entry) for entry in entries]

    async def top_tracks_week_country(
        self, country: str, week: dt.date, limit: int = TOP_LIMIT
    ) -> list[TrackCount]:
        key = self.keys.top(week, country)
        head = cast(
            "list[tuple[bytes, float]]", await self.client.zrange(key, 0, limit, desc=True, withscores=True)
        )
        tied: list[bytes] = []
        if len(head) > limit and head[limit][1] == head[limit - 1][1]:  # rare on real data: one more trip
            score = head[limit - 1][1]
            tied = cast("list[bytes]", await self.client.zrange(key, score, score, byscore=True))
        return top_with_ties(head, tied, limit)

    async def users_played_both(self, track_x: int, track_y: int) -> list[int]:
        members = await self.client.sinter([self.keys.listeners(track_x), self.keys.listeners(track_y)])
        return sorted(int(text_of(member)) for member in members)

    async def create_playlist(self, playlist_id: int) -> None:
        await self.client.hsetnx(self.keys.playlist(playlist_id), "followers", 0)

    async def follow(self, playlist_id: int, user_id: int) -> bool:
        return await self._change(playlist_id, user_id, +1)

    async def unfollow(self, playlist_id: int, user_id: int) -> bool:
        return await self._change(playlist_id, user_id, -1)

    async def _change(self, playlist_id: int, user_id: int, delta: int) -> bool:
        keys = [self.keys.playlist(playlist_id), self.keys.followers(playlist_id)]
        changed = int(await self._change_follower(keys=keys, args=[user_id, delta]))
        if changed < 0:
            raise UnknownPlaylistError(playlist_id)
        return changed == 1

    async def follower_state(self, playlist_id: int) -> FollowerState:
        return await read_follower_state(self.client, self.keys, playlist_id)


async def read_follower_state(client: aioredis.Redis, keys: RedisKeys, playlist_id: int) -> FollowerState:
    """Counter and set read in one ``MULTI``/``EXEC`` (same hash tag, same slot), so they are one snapshot."""
    pipe = client.pipeline(transaction=True)
    pipe.hget(keys.playlist(playlist_id), "followers")
    pipe.smembers(keys.followers(playlist_id))
    count, members = await pipe.execute()
    if count is None:
        raise UnknownPlaylistError(playlist_id)
    return FollowerState(int(count), frozenset(int(text_of(m)) for m in members))
