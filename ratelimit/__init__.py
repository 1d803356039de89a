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
from ratelimit.breaker import BreakerState, CircuitBreaker
from ratelimit.cache import Cache, MemoryCache, RedisCache
from ratelimit.errors import error_response
from ratelimit.headers import rate_limit_headers
from ratelimit.identity import Identify, TrustedProxies, api_key, client_ip, first_of, user_id
from ratelimit.middleware import (
    RateLimitDependency,
    RateLimitMiddleware,
    RateLimitRefusedError,
    install_rate_limit_handler,
)
from ratelimit.policy import Enforcer, FailMode, Policy, Rule
from ratelimit.queue_delay import LoopLagProbe, StandingQueue
from ratelimit.refusal import Refusal
from ratelimit.routes import RouteMatch
from ratelimit.shedder import LoadShedder, LoadSheddingMiddleware

__all__ += [
    "BreakerState",
    "Cache",
    "CircuitBreaker",
    "Enforcer",
    "FailMode",
    "Identify",
    "LoadShedder",
    "LoadSheddingMiddleware",
    "LoopLagProbe",
    "MemoryCache",
    "Policy",
    "RateLimitDependency",
    "RateLimitMiddleware",
    "RateLimitRefusedError",
    "RedisCache",
    "Refusal",
    "RouteMatch",
    "Rule",
    "StandingQueue",
    "TrustedProxies",
    "api_key",
    "client_ip",
    "error_response",
    "first_of",
    "install_rate_limit_handler",
    "rate_limit_headers",
    "user_id",
]
