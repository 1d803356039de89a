"""A deterministic listening history: who lives where, which tracks are popular, who plays what and when.

Popularity follows a Zipf law (a few hits, a long tail), as listening data does (the Last.fm and Million Song
Dataset play counts are heavy-tailed); user activity is skewed too, and a few countries dominate. Times are
spread evenly over ``weeks`` weeks and strictly increase, so every user's plays arrive in time order (the
order the Redis list keeps). The same seed gives the same plays, so both stores load exactly the same data.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, field

from datastores.model import Play, epoch_ms, from_epoch_ms

COUNTRIES = (("US", 30), ("BR", 15), ("GB", 12), ("DE", 12), ("JP", 10), ("FR", 10), ("SE", 6), ("MX", 5))


@dataclass(frozen=True)
class WorkloadSpec:
    plays: int
    users: int
    tracks: int
    weeks: int = 4
    first_week: dt.date = dt.date(2024, 1, 1)  # a Monday
    track_skew: float = 1.1  # Zipf exponent of track popularity
    user_skew: float = 0.6  # Zipf exponent of user activity
    seed: int = 7

    def __post_init__(self) -> None:
        if self.first_week.weekday() != 0:
            raise ValueError("first_week must be a Monday")
        if min(self.plays, self.users, self.tracks, self.weeks) < 1:
            raise ValueError("plays, users, tracks and weeks must be positive")
        if self.plays > self.weeks * 7 * 86_400_000:
            raise ValueError("more plays than milliseconds in the period: times would not increase")

    @property
    def last_week(self) -> dt.date:
        return self.first_week + dt.timedelta(weeks=self.weeks - 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "plays": self.plays,
            "users": self.users,
            "tracks": self.tracks,
            "weeks": self.weeks,
            "first_week": self.first_week.isoformat(),
            "track_skew": self.track_skew,
            "user_skew": self.user_skew,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class Workload:
    spec: WorkloadSpec
    country_of: dict[int, str]
    tracks_by_popularity: list[int]  # most popular first
    plays: list[Play] = field(repr=False)

    @property
    def countries(self) -> list[str]:
        return sorted(set(self.country_of.values()))

    def hit_pairs(self, n: int) -> list[tuple[int, int]]:
        """``n`` pairs of popular tracks: the expensive case for "users who played both" (big sets)."""
        hits = self.tracks_by_popularity[: max(2, n + 1)]
        return list(itertools.islice(itertools.pairwise(hits), n))


def zipf_cumulative(n: int, skew: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**skew) for rank in range(1, n + 1)))


def generate(spec: WorkloadSpec) -> Workload:
    rng = random.Random(spec.seed)
    codes, weights = zip(*COUNTRIES, strict=True)
    country_of = {user: rng.choices(codes, weights)[0] for user in range(1, spec.users + 1)}
    tracks = list(range(1, spec.tracks + 1))
    rng.shuffle(tracks)  # popularity rank is not track id order
    users = list(range(1, spec.users + 1))
    rng.shuffle(users)
    track_picks = rng.choices(tracks, cum_weights=zipf_cumulative(spec.tracks, spec.track_skew), k=spec.plays)
    user_picks = rng.choices(users, cum_weights=zipf_cumulative(spec.users, spec.user_skew), k=spec.plays)
    start_ms = epoch_ms(dt.datetime.combine(spec.first_week, dt.time(), tzinfo=dt.UTC))
    span_ms = spec.weeks * 7 * 86_400_000
    plays = [
        Play(user, track, from_epoch_ms(start_ms + i * span_ms // spec.plays), country_of[user])
        for i, (user, track) in enumerate(zip(user_picks, track_picks, strict=True))
    ]
    return Workload(spec, country_of, tracks, plays)
