"""Traffic control for the services: rate limiting on Redis or in memory, and the race bug of Q11.

In a service::

    limiter = create_limiter("gcra", Limit(100, 60), redis=redis_client(url))   # or redis=None: in memory
    decision = await limiter.hit("user:42", cost=1)                              # Decision(allowed, ...)
"""

from ratelimit.decision import ALGORITHMS, Algorithm, Decision, Limit, Limiter
from ratelimit.errors import RateLimitBackendError
from ratelimit.factory import create_limiter, redis_client, runner_for
from ratelimit.memory import MemoryLimiter
from ratelimit.naive import NaiveFixedWindowLimiter
from ratelimit.redis_backend import RedisLimiter
from ratelimit.runner import ScriptRunner

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "Decision",
    "Limit",
    "Limiter",
    "MemoryLimiter",
    "NaiveFixedWindowLimiter",
    "RateLimitBackendError",
    "RedisLimiter",
    "ScriptRunner",
    "create_limiter",
    "redis_client",
    "runner_for",
]

# ---- the web half (middleware, headers, identity, breaker, shedder, cache) -------------------------
# owned by its helper: import its public names here and extend __all__ (``__all__ += [...]``)
