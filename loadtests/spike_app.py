"""The target of the spike scenario: a tiny music API behind the rate limiter and the load shedder.

Run by ``ratelimit.spike_bench`` and ``tests/load`` as ``uvicorn loadtests.spike_app:create_app --factory``.
Its one scarce resource is a "database" that serves ``SPIKE_DB_CONCURRENCY`` queries at a time, each taking
``SPIKE_DB_LATENCY_MS``: past that, requests can only queue, which is exactly what a spike does to a real
service. The shedder's bound (``SPIKE_MAX_IN_FLIGHT``) is set to what that database can serve at once, so
admitted requests never queue and stay as fast as at normal load; the excess gets an immediate 503.

Middleware order: the load shedder outermost (refusing costs nothing when the instance is saturated), then
the rate limiter (one Redis round trip per decision), then the app. Locust plays the load balancer, so
loopback is a trusted proxy and each simulated listener's ``X-Forwarded-For`` is its identity; the scraper is
identified by its API key.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import orjson
from fastapi import FastAPI, Response

from ratelimit.decision import Limit, Limiter
from ratelimit.factory import create_limiter, redis_client
from ratelimit.identity import TrustedProxies, api_key, client_ip, first_of
from ratelimit.middleware import RateLimitMiddleware
from ratelimit.policy import Policy, Rule
from ratelimit.routes import RouteMatch
from ratelimit.shedder import CRITICAL, LoadShedder, LoadSheddingMiddleware


@dataclass(frozen=True)
class SpikeSettings:
    redis_url: str | None  # None: in-memory limiter
    redis_prefix: str
    max_in_flight: int
    db_concurrency: int
    db_latency_s: float
    listener_limit: Limit

    @classmethod
    def from_env(cls) -> SpikeSettings:
        env = os.environ
        return cls(
            redis_url=env.get("SPIKE_REDIS_URL") or None,
            redis_prefix=env.get("SPIKE_REDIS_PREFIX", "spike:"),
            max_in_flight=int(env.get("SPIKE_MAX_IN_FLIGHT", "8")),
            db_concurrency=int(env.get("SPIKE_DB_CONCURRENCY", "8")),
            db_latency_s=float(env.get("SPIKE_DB_LATENCY_MS", "50")) / 1000,
            # GCRA: a burst of 20, refilled at 2 units/s; a listener asks about 1/s, a search costs 5
            listener_limit=Limit(
                int(env.get("SPIKE_LIMIT", "20")), float(env.get("SPIKE_LIMIT_PERIOD_S", "10"))
            ),
        )


def _json(payload: object) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


def create_app(settings: SpikeSettings | None = None) -> FastAPI:
    settings = settings or SpikeSettings.from_env()
    app = FastAPI(title="spike target")
    database = asyncio.Semaphore(settings.db_concurrency)

    async def query(rows: int) -> list[dict[str, object]]:
        async with database:  # the scarce resource: wait here means queueing latency
            await asyncio.sleep(settings.db_latency_s)
        return [{"track_id": i, "score": 1.0 / (i + 1)} for i in range(rows)]

    @app.get("/healthz")
    async def healthz() -> Response:
        return _json({"status": "ok"})

    @app.get("/api/recommendations")
    async def recommendations() -> Response:
        return _json({"items": await query(20)})

    @app.get("/api/search")
    async def search() -> Response:
        return _json({"items": await query(10)})

    @app.post("/api/play")
    async def play() -> Response:
        await query(1)
        return _json({"playing": True})

    limiter: Limiter
    if settings.redis_url:
        limiter = create_limiter(
            "gcra",
            settings.listener_limit,
            redis=redis_client(settings.redis_url),
            prefix=settings.redis_prefix,
        )
    else:
        limiter = create_limiter("gcra", settings.listener_limit)
    identify = first_of(api_key(), client_ip(TrustedProxies(["127.0.0.1/32", "::1/128"])))
    listener = Policy("listener", limiter, identify)

    # added first = innermost: the limiter sits inside the shedder
    app.add_middleware(
        RateLimitMiddleware,
        rules=[
            Rule(listener, RouteMatch(route="/api/search"), cost=5, fail="open"),
            Rule(listener, RouteMatch(prefix="/api/"), cost=1, fail="open"),
        ],
    )
    app.add_middleware(
        LoadSheddingMiddleware,
        shedder=LoadShedder(settings.max_in_flight),
        classes=[(RouteMatch(route="/api/play"), CRITICAL)],
        exempt=[RouteMatch(route="/healthz")],
    )
    return app
