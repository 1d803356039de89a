"""Q3: one listening-history workload on PostgreSQL and on Redis, measured side by side.

The same :class:`ListeningStore` interface, implemented twice on the same data: :class:`PostgresStore`
(normalised, indexed, ``plays`` partitioned by week, SQL computed at read time) and :class:`RedisStore` (one
structure per access pattern, maintained at write time), plus :class:`NaiveRedisFollowers`, the follower
counter without atomicity. ``make bench-datastores`` measures them (``datastores.bench``); ``answers demo
3`` runs a small live version (``datastores.demo``)."""

from datastores.invariant import InvariantReport, InvariantSpec, run_invariant
from datastores.model import FollowerState, Play, RecentPlay, TrackCount, UnknownPlaylistError
from datastores.naive import NaiveRedisFollowers
from datastores.postgres_store import PostgresStore, make_engine, migrate
from datastores.protocol import FollowerStore, ListeningStore, PlayStore
from datastores.redis_store import RedisStore
from datastores.reference import ReferenceStore
from datastores.workload import Workload, WorkloadSpec, generate

__all__ = [
    "FollowerState",
    "FollowerStore",
    "InvariantReport",
    "InvariantSpec",
    "ListeningStore",
    "NaiveRedisFollowers",
    "Play",
    "PlayStore",
    "PostgresStore",
    "RecentPlay",
    "RedisStore",
    "ReferenceStore",
    "TrackCount",
    "UnknownPlaylistError",
    "Workload",
    "WorkloadSpec",
    "generate",
    "make_engine",
    "migrate",
    "run_invariant",
]
