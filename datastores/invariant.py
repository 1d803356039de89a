"""Hammer a follower store with concurrent follow/unfollow calls, then check every playlist's invariant.

Many coroutines share few playlists and few users, so calls on the same playlist and even the same user
overlap all the time: any read-modify-write done in separate round trips interleaves with another one. A
violation is a playlist whose stored count differs from its number of followers at the end; ``drift`` sums
the differences.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from datastores.protocol import FollowerStore


@dataclass(frozen=True)
class InvariantSpec:
    playlists: int = 8
    users: int = 30
    operations: int = 2000
    concurrency: int = 64
    follow_share: float = 0.6  # more follows than unfollows, so counts grow and stay non-trivial
    first_playlist_id: int = 1
    seed: int = 11

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class InvariantReport:
    store: str
    violations: int
    drift: int
    changes: int  # calls that changed something (the rest were no-ops: already following / not following)
    seconds: float


def operations(spec: InvariantSpec) -> Iterator[tuple[int, int, bool]]:
    """(playlist id, user id, follow?) for each call, the same for every store given the same seed."""
    rng = random.Random(spec.seed)
    for _ in range(spec.operations):
        playlist = spec.first_playlist_id + rng.randrange(spec.playlists)
        yield playlist, rng.randrange(1, spec.users + 1), rng.random() < spec.follow_share


async def run_invariant(store: FollowerStore, spec: InvariantSpec) -> InvariantReport:
    playlists = range(spec.first_playlist_id, spec.first_playlist_id + spec.playlists)
    for playlist in playlists:
        await store.create_playlist(playlist)
    pending = operations(spec)
    changes = 0

    async def worker() -> None:
        nonlocal changes
        for playlist, user, follow in pending:  # one shared iterator: each call is taken by one worker
            changed = await (store.follow if follow else store.unfollow)(playlist, user)
            changes += changed

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
    seconds = time.perf_counter() - started
    states = [await store.follower_state(playlist) for playlist in playlists]
    return InvariantReport(
        store=store.name,
        violations=sum(not state.consistent for state in states),
        drift=sum(abs(state.count - len(state.followers)) for state in states),
        changes=changes,
        seconds=round(seconds, 3),
    )
