"""Build limiters: in memory when there is no Redis (embedded mode), on Redis otherwise.

``redis_client`` makes a client fit for a limiter (or a cache) in a request path: short timeouts, because a
limiter that waits is worse than one that degrades (the middleware's breaker and fail-open/closed policy
decide what happens next), and exactly one quick retry on a *connection* error. After a Redis restart every
pooled connection is dead, and without that retry each one fails one request before being replaced; with it,
the failed call reconnects at once and a returning Redis is used from its first request. Timeouts are not
retried: a slow Redis stays slow, and the rule's deadline is better spent degrading. (If a reply, not the
request, was lost, the retried decision counts twice: one unit of over-counting, on the safe side.)

Limiters built on the same client share one ``ScriptRunner``, so the decisions of
all policies are pipelined together.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from ratelimit.decision import Algorithm, Limit, Limiter
from ratelimit.memory import MemoryLimiter
from ratelimit.redis_backend import DEFAULT_PREFIX, RedisLimiter
from ratelimit.runner import ScriptRunner

DEFAULT_TIMEOUT_S = 0.1  # a loopback or same-zone Redis answers in well under a millisecond
RECONNECT_BACKOFF = ExponentialWithJitterBackoff(cap=0.01, base=0.001)  # 1 ms: a restart is done, not ongoing

_runners: weakref.WeakKeyDictionary[Redis | RedisCluster, ScriptRunner] = weakref.WeakKeyDictionary()


def redis_client(
    url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, cluster: bool = False, **options: Any
) -> Redis | RedisCluster:
    """A ``Redis`` (or ``RedisCluster``) client: short socket timeouts, one retry on a dead connection."""
    settings: dict[str, Any] = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "retry": Retry(RECONNECT_BACKOFF, 1, supported_errors=(RedisConnectionError,)),
        **options,
    }
    if cluster:
        return RedisCluster.from_url(url, **settings)
    return Redis.from_url(url, **settings)


def runner_for(client: Redis | RedisCluster) -> ScriptRunner:
    """The one ``ScriptRunner`` of ``client`` (created on first use)."""
    runner = _runners.get(client)
    if runner is None:
        runner = _runners[client] = ScriptRunner(client)
    return runner


def create_limiter(
    algorithm: Algorithm,
    limit: Limit,
    *,
    redis: Redis | RedisCluster | ScriptRunner | None = None,
    prefix: str = DEFAULT_PREFIX,
    clock: Callable[[], float] = time.monotonic,
) -> Limiter:
    """A Redis limiter when ``redis`` is given, else an in-memory one (``clock`` is used only in memory)."""
    if redis is None:
        return MemoryLimiter(algorithm, limit, clock=clock)
    runner = redis if isinstance(redis, ScriptRunner) else runner_for(redis)
    return RedisLimiter(runner, algorithm, limit, prefix=prefix)
