"""The one interface both stores implement, so the same tests and the same benchmark drive either.

:class:`PlayStore` is the listening history (write a play, read recent plays, two analytics queries);
:class:`FollowerStore` is the invariant under concurrency (a playlist's follower count equals its followers).
The naive Redis version implements only :class:`FollowerStore`: it exists to show the invariant breaking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from datastores.model import RECENT_LIMIT, TOP_LIMIT, FollowerState, Play, RecentPlay, TrackCount


class PlayStore(Protocol):
    name: str

    async def record_play(self, play: Play) -> None:
        """Store one play; returns once the store acknowledged it."""

    async def record_plays(self, plays: Sequence[Play]) -> None:
        """Bulk load: the same effect as ``record_play`` for each, in order, with fewer round trips."""

    async def recent_plays(self, user_id: int, limit: int = RECENT_LIMIT) -> list[RecentPlay]:
        """The user's last ``limit`` plays, newest first."""

    async def top_tracks_week_country(
        self, country: str, week: dt.date, limit: int = TOP_LIMIT
    ) -> list[TrackCount]:
        """The most played tracks in ``country`` during the week starting Monday ``week``."""

    async def users_played_both(self, track_x: int, track_y: int) -> list[int]:
        """Ids of users who played both tracks (ever), ascending."""


class FollowerStore(Protocol):
    name: str

    async def create_playlist(self, playlist_id: int) -> None:
        """A playlist with no followers and a follower count of 0."""

    async def follow(self, playlist_id: int, user_id: int) -> bool:
        """Add a follower; True if they were not following yet (and the count went up by one)."""

    async def unfollow(self, playlist_id: int, user_id: int) -> bool:
        """Remove a follower; True if they were following (and the count went down by one)."""

    async def follower_state(self, playlist_id: int) -> FollowerState:
        """The stored count and the follower set, read together."""


class ListeningStore(PlayStore, FollowerStore, Protocol):
    """Everything the workload needs: PostgreSQL and Redis implement all of it."""
