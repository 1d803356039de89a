"""The specification as code: the workload's answers computed naively in memory from every play.

Not a third store to deploy: the oracle the shared test suite checks PostgreSQL and Redis against, and the
definition of each answer (newest first; most plays first with ties to the lower track id; ids ascending; a
play counts under its user's current country, as PostgreSQL's join has it).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from datastores.model import (
    RECENT_LIMIT,
    TOP_LIMIT,
    FollowerState,
    Play,
    RecentPlay,
    TrackCount,
    UnknownPlaylistError,
    rank_tracks,
    truncate_ms,
    week_start,
)


class ReferenceStore:
    name = "reference"

    def __init__(self) -> None:
        self.plays: list[Play] = []
        self.country_of: dict[int, str] = {}
        self.playlists: dict[int, set[int]] = {}

    async def record_play(self, play: Play) -> None:
        self.plays.append(play)
        self.country_of[play.user_id] = play.country  # the user's current country, as PostgreSQL joins it

    async def record_plays(self, plays: Sequence[Play]) -> None:
        for play in plays:
            await self.record_play(play)

    async def recent_plays(self, user_id: int, limit: int = RECENT_LIMIT) -> list[RecentPlay]:
        mine = [p for p in self.plays if p.user_id == user_id]
        mine.sort(key=lambda p: p.played_at, reverse=True)
        return [RecentPlay(p.track_id, truncate_ms(p.played_at)) for p in mine[:limit]]

    async def top_tracks_week_country(
        self, country: str, week: dt.date, limit: int = TOP_LIMIT
    ) -> list[TrackCount]:
        counts = Counter(
            p.track_id
            for p in self.plays
            if week_start(p.played_at) == week and self.country_of[p.user_id] == country
        )
        return rank_tracks(dict(counts), limit)

    async def users_played_both(self, track_x: int, track_y: int) -> list[int]:
        x = {p.user_id for p in self.plays if p.track_id == track_x}
        y = {p.user_id for p in self.plays if p.track_id == track_y}
        return sorted(x & y)

    async def create_playlist(self, playlist_id: int) -> None:
        self.playlists.setdefault(playlist_id, set())

    async def follow(self, playlist_id: int, user_id: int) -> bool:
        followers = self._followers(playlist_id)
        added = user_id not in followers
        followers.add(user_id)
        return added

    async def unfollow(self, playlist_id: int, user_id: int) -> bool:
        followers = self._followers(playlist_id)
        removed = user_id in followers
        followers.discard(user_id)
        return removed

    async def follower_state(self, playlist_id: int) -> FollowerState:
        followers = self._followers(playlist_id)
        return FollowerState(len(followers), frozenset(followers))

    def _followers(self, playlist_id: int) -> set[int]:
        if playlist_id not in self.playlists:
            raise UnknownPlaylistError(playlist_id)
        return self.playlists[playlist_id]
