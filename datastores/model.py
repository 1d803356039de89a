"""The listening-history workload as plain values: a play, what the reads return, and time buckets.

Both stores answer in these types, so one test suite can compare them field by field. Time is UTC at
millisecond precision (what a Redis entry keeps); a "week" starts on Monday 00:00 UTC (ISO 8601), the bucket
behind ``top_tracks_week_country`` and behind PostgreSQL's weekly partitions of ``plays``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

UTC = dt.UTC
RECENT_LIMIT = 50
TOP_LIMIT = 10


class UnknownPlaylistError(LookupError):
    """Following, unfollowing or reading a playlist that was never created."""


@dataclass(frozen=True, slots=True)
class Play:
    """User ``user_id`` (living in ``country``) played ``track_id`` at ``played_at``."""

    user_id: int
    track_id: int
    played_at: dt.datetime
    country: str

    def __post_init__(self) -> None:
        if self.played_at.tzinfo is None:
            raise ValueError("played_at must be timezone-aware")
        if len(self.country) != 2 or not self.country.isalpha() or not self.country.isupper():
            raise ValueError(f"country must be an ISO 3166 alpha-2 code, got {self.country!r}")


@dataclass(frozen=True, slots=True)
class RecentPlay:
    track_id: int
    played_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TrackCount:
    track_id: int
    plays: int


@dataclass(frozen=True, slots=True)
class FollowerState:
    """A playlist's stored follower count and its actual followers; the invariant is that they agree."""

    count: int
    followers: frozenset[int]

    @property
    def consistent(self) -> bool:
        return self.count == len(self.followers)


def epoch_ms(moment: dt.datetime) -> int:
    """Milliseconds since the Unix epoch, truncated (never rounded up into the next millisecond)."""
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return delta // dt.timedelta(milliseconds=1)


def from_epoch_ms(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


def truncate_ms(moment: dt.datetime) -> dt.datetime:
    return from_epoch_ms(epoch_ms(moment))


def week_start(moment: dt.datetime) -> dt.date:
    """The Monday (UTC) of the ISO week ``moment`` falls in."""
    day = moment.astimezone(UTC).date()
    return day - dt.timedelta(days=day.weekday())


def week_bounds(week: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the week starting on Monday ``week``, as UTC datetimes."""
    if week.weekday() != 0:
        raise ValueError(f"a week starts on a Monday, {week.isoformat()} is not one")
    start = dt.datetime(week.year, week.month, week.day, tzinfo=UTC)
    return start, start + dt.timedelta(weeks=1)


def rank_tracks(counts: dict[int, int], limit: int = TOP_LIMIT) -> list[TrackCount]:
    """The ranking both stores promise: most plays first, ties broken by the lower track id."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [TrackCount(track, plays) for track, plays in ordered[:limit]]
