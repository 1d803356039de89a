"""The follower counter as it is often first written on Redis: check, then act, in separate round trips.

``follow`` asks ``SISMEMBER``, then ``SADD``s, then reads the counter with ``HGET`` and writes ``count + 1``
back with ``HSET``. Each step is atomic; the sequence is not. Two concurrent follows can both see "not a
member" (the count goes up twice for one new follower), or both read 7 and both write 8 (a lost update).
Same keys as :class:`~datastores.redis_store.RedisStore`, so only the missing atomicity differs. The fix is
the Lua script there (or ``WATCH``/``MULTI``/``EXEC`` with a retry on abort)."""

from __future__ import annotations

import redis.asyncio as aioredis

from datastores.model import FollowerState, UnknownPlaylistError
from datastores.redis_store import RedisKeys, read_follower_state


class NaiveRedisFollowers:
    name = "redis_naive"

    def __init__(self, client: aioredis.Redis, prefix: str = "datastores:") -> None:
        self.client = client
        self.keys = RedisKeys(prefix)

    async def create_playlist(self, playlist_id: int) -> None:
        await self.client.hsetnx(self.keys.playlist(playlist_id), "followers", 0)

    async def follow(self, playlist_id: int, user_id: int) -> bool:
        return await self._change(playlist_id, user_id, +1)

    async def unfollow(self, playlist_id: int, user_id: int) -> bool:
        return await self._change(playlist_id, user_id, -1)

    async def _change(self, playlist_id: int, user_id: int, delta: int) -> bool:
        playlist, followers = self.keys.playlist(playlist_id), self.keys.followers(playlist_id)
        if not await self.client.exists(playlist):
            raise UnknownPlaylistError(playlist_id)
        member = bool(await self.client.sismember(followers, str(user_id)))
        if member == (delta > 0):  # already following / not following: nothing to do
            return False
        if delta > 0:
            await self.client.sadd(followers, str(user_id))
        else:
            await self.client.srem(followers, str(user_id))
        count = int(await self.client.hget(playlist, "followers") or 0)  # read ...
        await self.client.hset(playlist, "followers", str(count + delta))  # ... modify, write: the race
        return True

    async def follower_state(self, playlist_id: int) -> FollowerState:
        return await read_follower_state(self.client, self.keys, playlist_id)
