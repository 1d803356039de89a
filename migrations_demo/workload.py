"""The simulated application: three app versions' queries and a realistic request mix.

Each app version is the small set of queries one build of the service runs against ``plays``. v1 knows only
``ms_played``; v2 reads ``played_ms`` and writes both (the rename's transition build); v3 knows only
``played_ms``. During an expand/contract rename the harness runs two versions side by side, as a rolling
deploy does, and every request says which version sent it.

The mix is what a play log sees: about 50% inserts (a play finished), 40% reads by key, 10% updates (a late
client report corrects ``ms_played``). Reads and updates pick seeded rows, so inserted rows are only ever
written once: that keeps the integrity audit exact. Pure: choosing requests needs no database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class AppVersion:
    name: str
    insert: str  # $1 user_id, $2 track_id, $3 ms -> RETURNING id
    read: str  # $1 id
    update: str  # $1 id, $2 ms


APP_VERSIONS: dict[str, AppVersion] = {
    v.name: v
    for v in (
        AppVersion(
            "v1",
            "INSERT INTO plays (user_id, track_id, ms_played) VALUES ($1, $2, $3) RETURNING id",
            "SELECT id, user_id, track_id, played_at, ms_played FROM plays WHERE id = $1",
            "UPDATE plays SET ms_played = $2 WHERE id = $1",
        ),
        AppVersion(
            "v2",
            "INSERT INTO plays (user_id, track_id, ms_played, played_ms)"
            " VALUES ($1, $2, $3, $3) RETURNING id",
            "SELECT id, user_id, track_id, played_at, played_ms FROM plays WHERE id = $1",
            "UPDATE plays SET played_ms = $2, ms_played = $2 WHERE id = $1",
        ),
        AppVersion(
            "v3",
            "INSERT INTO plays (user_id, track_id, played_ms) VALUES ($1, $2, $3) RETURNING id",
            "SELECT id, user_id, track_id, played_at, played_ms FROM plays WHERE id = $1",
            "UPDATE plays SET played_ms = $2 WHERE id = $1",
        ),
    )
}

MIX = (("insert", 0.5), ("read", 0.4), ("update", 0.1))
MAX_MS_PLAYED = 300_000


@dataclass(frozen=True)
class Sizes:
    """How many rows of each table a seed of ``rows`` plays holds; requests pick keys inside these ranges."""

    rows: int

    @property
    def tracks(self) -> int:
        return max(100, self.rows // 20)

    @property
    def users(self) -> int:
        return max(100, self.rows // 10)

    @property
    def playlists(self) -> int:
        return max(10, self.rows // 1000)


@dataclass(frozen=True)
class Request:
    op: str  # insert | read | update
    version: str
    sql: str
    args: tuple[int, ...]


class RequestMix:
    """Deterministic stream of requests for a seed: the same seed gives the same requests."""

    def __init__(self, sizes: Sizes, seed: int = 0) -> None:
        self.sizes = sizes
        self._rng = random.Random(seed)
        self._ops = [op for op, _ in MIX]
        self._weights = [w for _, w in MIX]

    def next(self, versions: tuple[str, ...]) -> Request:
        rng = self._rng
        app = APP_VERSIONS[versions[0] if len(versions) == 1 else rng.choice(versions)]
        op = rng.choices(self._ops, self._weights)[0]
        if op == "insert":
            user, track = rng.randint(1, self.sizes.users), rng.randint(1, self.sizes.tracks)
            return Request(op, app.name, app.insert, (user, track, rng.randint(0, MAX_MS_PLAYED)))
        key = rng.randint(1, self.sizes.rows)
        if op == "read":
            return Request(op, app.name, app.read, (key,))
        return Request(op, app.name, app.update, (key, rng.randint(0, MAX_MS_PLAYED)))
