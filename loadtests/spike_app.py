"""The target of the spike scenario: a tiny music API behind the rate limiter and the load shedder.

Run by ``ratelimit.spike_bench`` and ``tests/load`` as ``uvicorn loadtests.spike_app:create_app --factory``.
Its one scarce resource is a "database" that serves ``SPIKE_DB_CONCURRENCY`` queries at a time, each taking
``SPIKE_DB_LATENCY_MS``: past that, requests can only queue, which is exactly what a spike does to a real
service. The shedder's bound (``SPIKE_MAX_IN_FLIGHT``) is set to what that database can serve at once, so
admitted requests never queue and stay as fast as at normal load; the excess gets an immediate 503.

The app is instrumented like every service (``observability.instrument``: request ids, a JSON access line,
RED metrics, tracing), and the two traffic controls *wrap* that instrumented app instead of being added to it
(``instrument`` keeps its own middleware outermost, and tracing wraps even those): outermost the load shedder,
then the rate limiter, then everything else. A shed request never reaches routing, logging, tracing or
pydantic; it is a counter increment and a prepared raw-ASGI 503, so hundreds of them a second leave the core
to the admitted requests. A 429 costs its Redis decision and the same raw refusal. Besides its in-flight
bound, the shedder watches the event loop's lag (CoDel's standing-queue test, ``ratelimit.queue_delay``),
which sees the CPU queue that an in-flight count cannot; only non-critical routes are shed on that signal.

Locust plays the load balancer, so loopback is a trusted proxy and each simulated listener's
``X-Forwarded-For`` is its identity; the scraper is identified by its API key.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import orjson
from fastapi import FastAPI, Response
from starlette.types import ASGIApp

from observability import instrument
from ratelimit.decision import Limit, Limiter
from ratelimit.factory import create_limiter, redis_client
from ratelimit.identity import TrustedProxies, api_key, client_ip, first_of
from ratelimit.middleware import RateLimitMiddleware
from ratelimit.policy import Policy, Rule
from ratelimit.queue_delay import LoopLagProbe, StandingQueue
from ratelimit.routes import RouteMatch
from ratelimit.shedder import CRITICAL, LoadShedder, LoadSheddingMiddleware

UNGUARDED = (RouteMatch(route="/healthz"), RouteMatch(route="/readyz"), RouteMatch(route="/metrics"))


@dataclass(frozen=True)
class SpikeSettings:
    redis_url: str | None  # None: in-memory limiter
    redis_prefix: str
    max_in_flight: int
    db_concurrency: int
    db_latency_s: float
    listener_limit: Limit
    queue_target_s: float  # CoDel target for the event loop's lag; 0 turns the delay signal off

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
            queue_target_s=float(env.get("SPIKE_QUEUE_TARGET_MS", "10")) / 1000,
        )


def _json(payload: object) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


def create_app(settings: SpikeSettings | None = None) -> ASGIApp:
    """The instrumented music API, wrapped by the rate limiter and, outermost, the load shedder."""
    settings = settings or SpikeSettings.from_env()
    return guarded(music_api(settings), settings)


def music_api(settings: SpikeSettings) -> FastAPI:
    app = FastAPI(title="spike target")
    database = asyncio.Semaphore(settings.db_concurrency)

    async def query(rows: int) -> list[dict[str, object]]:
        async with database:  # the scarce resource: wait here means queueing latency
            await asyncio.sleep(settings.db_latency_s)
        return [{"track_id": i, "score": 1.0 / (i + 1)} for i in range(rows)]

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

    instrument(app, service="spike")  # /healthz, /readyz, /metrics, access log, RED metrics, tracing
    return app


def guarded(app: ASGIApp, settings: SpikeSettings) -> ASGIApp:
    """``app`` behind the rate limiter, both behind the load shedder: the first layers a request meets."""
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
    limited = RateLimitMiddleware(
        app,
        rules=[
            Rule(listener, RouteMatch(route="/api/search"), cost=5, fail="open"),
            Rule(listener, RouteMatch(prefix="/api/"), cost=1, fail="open"),
        ],
    )
    probe = LoopLagProbe(StandingQueue(settings.queue_target_s)) if settings.queue_target_s > 0 else None
    return LoadSheddingMiddleware(
        limited,
        LoadShedder(settings.max_in_flight),
        classes=[(RouteMatch(route="/api/play"), CRITICAL)],
        exempt=UNGUARDED,
        queue_delay=probe,
    )
