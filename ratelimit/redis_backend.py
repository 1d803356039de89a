"""The Redis backend: a ``Limiter`` whose every decision is one atomic Lua script on the server.

Each algorithm is one script in ``ratelimit/lua/`` (the Python twins in ``ratelimit.algorithms`` document the
ideas and sources). The scripts take their time from Redis ``TIME`` (Redis 7 replicates scripts by their
effects, so a non-deterministic command is allowed), so the application servers' clocks never matter; every
key they write has an expiry, so an identity that goes quiet is forgotten; and a key pair's ``{hash tag}``
keeps each script on one Cluster slot. The client may be a ``redis.asyncio.Redis`` or a ``RedisCluster``,
wrapped in a shared ``ScriptRunner``.
"""

from __future__ import annotations

from ratelimit.algorithms import Reply, check_cost, decision_from_reply
from ratelimit.algorithms.common import Window
from ratelimit.decision import ALGORITHMS, Algorithm, Decision, Limit
from ratelimit.errors import RateLimitBackendError
from ratelimit.keys import SUFFIXES, check_prefix, redis_keys, tagged
from ratelimit.runner import ScriptRunner
from ratelimit.scripts import script

DEFAULT_PREFIX = "ratelimit:"


class RedisLimiter:
    """``RedisLimiter(runner, "gcra", Limit(100, 60))``: one budget shared by every process on that Redis."""

    def __init__(
        self, runner: ScriptRunner, algorithm: Algorithm, limit: Limit, *, prefix: str = DEFAULT_PREFIX
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
        self.algorithm: Algorithm = algorithm
        self.limit = limit
        self.prefix = check_prefix(prefix)
        self.runner = runner
        self._script = script(algorithm)
        window = Window.of(limit)
        self._argv = (b"%d" % window.limit, b"%d" % window.period_us)
        self._suffixes = tuple(suffix.encode() for suffix in SUFFIXES[algorithm])

    def keys_for(self, key: str) -> tuple[str, ...]:
        """The Redis keys this limiter keeps for ``key`` (for inspection and tests)."""
        return redis_keys(self.prefix, self.algorithm, key)

    async def hit(self, key: str, cost: int = 1) -> Decision:
        check_cost(cost, self.limit)
        base = tagged(self.prefix, key).encode()
        keys = [base + suffix for suffix in self._suffixes]  # what keys_for(key) returns, as bytes
        reply = await self.runner.run(self._script, keys, (*self._argv, b"%d" % cost))
        if not (isinstance(reply, list) and len(reply) == len(Reply._fields)):
            raise RateLimitBackendError(
                f"rate-limit script {self.algorithm} gave an unexpected reply: {reply!r}"
            )
        return decision_from_reply(self.limit.limit, reply)
