"""The routing half's composition root: one ``Downstream`` per service, the idempotency store, the fallback.

Built in the lifespan (``open_routing``), so the pooled clients exist only while the app runs, and closed
with it. One ``httpx.AsyncClient`` per downstream: its connection pool is what makes a hop cheap (no TCP
handshake per request); ``base_url`` is the only place a service's address appears.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from gateway.degrade import PopularFallback
from gateway.downstream import CallPolicy, Downstream
from gateway.forwarding import request_headers
from gateway.idempotency import IdempotencyStore, MemoryIdempotencyStore, RedisIdempotencyStore
from gateway.resilience import RetryBudget
from gateway.settings import GatewaySettings
from observability import current_request_id
from ratelimit import Cache, CircuitBreaker, MemoryCache, RedisCache

CATALOG = "catalog"
RECOMMENDER = "recommender"


@dataclass
class Routing:
    downstreams: dict[str, Downstream]
    idempotency: IdempotencyStore
    fallback: PopularFallback
    settings: GatewaySettings
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def aclose(self) -> None:
        await self.fallback.aclose()
        for client in self._clients:
            await client.aclose()


def _downstream(name: str, url: str, settings: GatewaySettings) -> Downstream:
    limits = httpx.Limits(
        max_connections=settings.downstream_max_connections,
        max_keepalive_connections=settings.downstream_max_connections,
    )
    client = httpx.AsyncClient(
        base_url=url,
        limits=limits,
        timeout=settings.downstream_timeout_s,
        follow_redirects=False,  # a redirect is the downstream's answer to the caller, not ours to follow
        trust_env=False,  # no proxy from the environment between the gateway and its services
    )
    policy = CallPolicy(
        attempt_timeout_s=settings.downstream_timeout_s,
        max_attempts=settings.retry_max_attempts,
        backoff_base_s=settings.retry_backoff_base_s,
        backoff_cap_s=settings.retry_backoff_cap_s,
        max_response_bytes=settings.downstream_max_response_bytes,
    )
    return Downstream(
        name,
        client,
        CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s),
        RetryBudget(settings.retry_budget_ratio, reserve=settings.retry_budget_reserve),
        policy,
    )


def open_routing(settings: GatewaySettings, redis: Redis | RedisCluster | None) -> Routing:
    downstreams = {
        CATALOG: _downstream(CATALOG, settings.catalog_url, settings),
        RECOMMENDER: _downstream(RECOMMENDER, settings.recommender_url, settings),
    }
    store: IdempotencyStore
    cache: Cache
    if redis is None:
        store = MemoryIdempotencyStore(ttl_s=settings.idempotency_ttl_s)
        cache = MemoryCache(name="gateway")
    else:
        store = RedisIdempotencyStore(
            redis, f"{settings.redis_prefix}idem:", ttl_s=settings.idempotency_ttl_s
        )
        # the cache-aside takes a plain client; behind a cluster the fallback list is kept per process
        cache = (
            RedisCache(redis, f"{settings.redis_prefix}cache:", name="gateway")
            if isinstance(redis, Redis)
            else MemoryCache(name="gateway")
        )
    fallback = PopularFallback(
        downstreams[RECOMMENDER],
        cache,
        ttl_s=settings.popular_ttl_s,
        headers=lambda remaining: request_headers([], request_id=current_request_id(), remaining_s=remaining),
    )
    clients = [downstream.client for downstream in downstreams.values()]
    return Routing(downstreams, store, fallback, settings, clients)
