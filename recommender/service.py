"""The recommender service (Q1): ``create_app(settings)`` serves the newest artifact's :class:`Engine`.

Nothing connects at import or in ``create_app``; the lifespan loads the model (training a small synthetic one
when there is none, see :mod:`recommender.live`). A user's list = the artifact's history + the online plays
(:mod:`recommender.history`, Redis in services mode) folded in, top-k of the unplayed items; a user with no
plays gets the popular items (cold start), or a fold-in from ``?seed_items=``. Lists go through the
stampede-safe cache-aside of :mod:`ratelimit.cache` under a key holding the model version and the user's
history generation, so a new model or a new play makes the old entries unreachable. Redis down: answers are
computed from the artifact alone (uncached), ``/readyz`` says ``degraded`` with 200, ``POST .../plays`` is a
503.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, cast

import orjson
import redis.asyncio as aioredis
from fastapi import FastAPI, Header, Path, Query, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from observability import ApiError, DependencyCheck, get_logger, instrument
from observability.health import readiness, run_checks
from ratelimit import Cache, MemoryCache, RedisCache, redis_client
from recommender.engine import Engine, Scored
from recommender.fast_route import fast_lane
from recommender.history import HistoryStore, HistoryUnavailableError, MemoryHistory, RedisHistory
from recommender.live import LISTS, ModelHolder
from recommender.schemas import (
    ID_PATTERN,
    MAX_K,
    Contribution,
    Explanation,
    PlaysIn,
    PlaysRecorded,
    Popular,
    Recommendations,
    Reloaded,
    Similar,
    Source,
)
from recommender.settings import RecommenderSettings

DEFAULT_PORT = 8004
DEFAULT_K = 10
CACHE_HEADER = "x-cache"  # hit / miss / bypass: lets a load test tell cached answers from computed ones

UserId = Annotated[str, Path(pattern=ID_PATTERN, description="catalog user id (decimal in the demo stack)")]
ItemId = Annotated[str, Path(pattern=ID_PATTERN, description="catalog track id (decimal in the demo stack)")]
K = Annotated[int, Query(ge=1, le=MAX_K, description=f"list length, 1..{MAX_K}")]
SeedItems = Annotated[
    str | None,
    Query(max_length=2000, description="comma-separated item ids to fold a new user in from (cold start)"),
]


@dataclass
class RecommenderState:
    settings: RecommenderSettings
    holder: ModelHolder
    history: HistoryStore
    cache: Cache | None
    redis: aioredis.Redis | None


def build_state(settings: RecommenderSettings) -> RecommenderState:
    redis = (
        cast("aioredis.Redis", redis_client(settings.redis_url))  # a single server, never a cluster here
        if settings.uses_redis and settings.redis_url
        else None
    )
    history: HistoryStore = (
        RedisHistory(
            redis,
            prefix=settings.redis_prefix,
            stream=settings.plays_stream,
            dedupe_ttl_s=settings.dedupe_ttl_s,
            timeout_s=settings.redis_timeout_s,
        )
        if redis is not None
        else MemoryHistory()
    )
    cache: Cache | None = None
    if settings.cache_enabled:
        cache = (
            RedisCache(
                redis,
                settings.redis_prefix + "cache:",
                name="recommender",
                timeout_s=settings.redis_timeout_s,
            )
            if redis is not None
            else MemoryCache(name="recommender")
        )
    return RecommenderState(settings, ModelHolder(settings), history, cache, redis)


def _scored(items: list[Scored]) -> list[dict[str, Any]]:
    """``ScoredItem`` bodies as plain dicts: the values are ours and already typed, so validating them
    again through pydantic on every computed list only cost CPU (a third of an uncached request)."""
    return [{"item_id": s.item, "score": round(s.score, 6)} for s in items]


def _json(body: dict[str, Any]) -> bytes:
    # keys in the response model's field order, so the bytes are what model_dump() + orjson gave
    return orjson.dumps(body)


async def _cached(state: RecommenderState, key: str | None, compute: Callable[[], bytes]) -> Response:
    """The body from the cache (or computed once through it); ``key=None`` computes without the cache."""
    computed = False

    async def run() -> bytes:
        nonlocal computed
        computed = True
        return compute()  # numpy, sub-millisecond below the ANN threshold: not worth a thread hop

    if state.cache is None or key is None:
        body, outcome = await run(), "bypass"
    else:
        body = await state.cache.get_or_compute(key, run, state.settings.cache_ttl_s)
        outcome = "miss" if computed else "hit"
    return Response(body, media_type="application/json", headers={CACHE_HEADER: outcome})


def _known_item(engine: Engine, item: str) -> None:
    if not engine.knows_item(item):
        raise ApiError(404, "item_not_found", f"item {item!r} is not in model {engine.version}")


def _seed_plays(engine: Engine, raw: str) -> dict[str, float]:
    seeds = [s.strip() for s in raw.split(",") if s.strip()]
    if not seeds:
        raise ApiError(400, "bad_seed_items", "seed_items must name at least one item id")
    unknown = [s for s in seeds if not engine.knows_item(s)]
    if unknown:
        raise ApiError(404, "item_not_found", f"unknown seed items: {', '.join(unknown[:5])}")
    return dict.fromkeys(seeds, 1.0)


async def user_list(
    state: RecommenderState, engine: Engine, user_id: str, k: int, seeds: dict[str, float]
) -> Response:
    """The user's list from the cache, or computed from artifact + online history (+ seeds) and cached."""
    history = await state.history.get(user_id)  # None: the store is down, answer from the artifact
    online = dict(history.plays) if history else {}
    cold = not online and not engine.knows_user(user_id)
    source: Source = "seed_items" if seeds else ("popular" if cold else "model")
    for item, count in seeds.items():
        online[item] = online.get(item, 0.0) + count

    def compute() -> bytes:
        items = _scored(engine.recommend_with(user_id, online, k))
        return _json({"user_id": user_id, "model_version": engine.version, "source": source, "items": items})

    LISTS.labels("recommendations", source).inc()
    # a list from seeds is one request's guess, and without a generation we cannot tell a stale entry
    key = f"recs:{engine.version}:{user_id}:g{history.generation}:k{k}" if history and not seeds else None
    return await _cached(state, key, compute)


def _add_list_routes(app: FastAPI, state: RecommenderState) -> None:
    @app.get("/users/{user_id}/recommendations", response_model=Recommendations, tags=["recommendations"])
    async def recommendations(user_id: UserId, k: K = 10, seed_items: SeedItems = None) -> Response:
        """Top-k unplayed items; popular items for a user with no plays; ``seed_items`` folds them in."""
        engine = state.holder.engine
        seeds = _seed_plays(engine, seed_items) if seed_items is not None else {}
        return await user_list(state, engine, user_id, k, seeds)

    async def canonical(user_id: str, k: int) -> Response:
        return await user_list(state, state.holder.engine, user_id, k, {})

    hot = next(r for r in app.router.routes if isinstance(r, APIRoute) and r.endpoint is recommendations)
    app.router.routes.insert(app.router.routes.index(hot), fast_lane(hot, canonical, DEFAULT_K))

    @app.get("/items/{item_id}/similar", response_model=Similar, tags=["recommendations"])
    async def similar(item_id: ItemId, k: K = 10) -> Response:
        """Items whose factors point the same way (cosine)."""
        engine = state.holder.engine
        _known_item(engine, item_id)
        LISTS.labels("similar", "model").inc()
        return await _cached(
            state,
            f"similar:{engine.version}:{item_id}:k{k}",
            lambda: _json(
                {
                    "item_id": item_id,
                    "model_version": engine.version,
                    "items": _scored(engine.similar(item_id, k)),
                }
            ),
        )

    @app.get("/popular", response_model=Popular, tags=["recommendations"])
    async def popular(k: K = 10) -> Response:
        """The most listened-to items (the cold-start list, and the gateway's fallback)."""
        engine = state.holder.engine
        LISTS.labels("popular", "popular").inc()
        return await _cached(
            state,
            f"popular:{engine.version}:k{k}",
            lambda: _json({"model_version": engine.version, "items": _scored(engine.popular(k))}),
        )

    @app.get(
        "/users/{user_id}/recommendations/{item_id}/explain",
        response_model=Explanation,
        tags=["recommendations"],
    )
    async def explain(user_id: UserId, item_id: ItemId) -> Explanation:
        """The item's score for the user and the played items that contributed most to it."""
        engine = state.holder.engine
        _known_item(engine, item_id)
        history = await state.history.get(user_id)
        online = history.plays if history else {}
        if len(engine.history_with(user_id, online)[0]) == 0:
            raise ApiError(404, "user_not_found", f"user {user_id!r} has no plays to explain a score from")
        score, parts = engine.explain_with(user_id, online, item_id)
        because = [Contribution(item_id=p.item, contribution=round(p.score, 6)) for p in parts]
        return Explanation(
            user_id=user_id, item_id=item_id, model_version=engine.version, score=score, because=because
        )


def _add_write_routes(app: FastAPI, state: RecommenderState) -> None:
    @app.post("/users/{user_id}/plays", response_model=PlaysRecorded, tags=["plays"])
    async def record_plays(user_id: UserId, body: PlaysIn) -> PlaysRecorded:
        """Record plays in the shared online history: the user's cached lists are invalidated at once (a new
        history generation), and the user is folded in again: the default list is cached for the next read."""
        engine = state.holder.engine
        unknown = sorted({p.item_id for p in body.plays if not engine.knows_item(p.item_id)})
        if unknown:
            raise ApiError(404, "item_not_found", f"unknown items: {', '.join(unknown[:5])}")
        plays: dict[str, float] = {}
        for play in body.plays:
            plays[play.item_id] = plays.get(play.item_id, 0.0) + play.count
        event_id = body.event_id or uuid.uuid4().hex
        try:
            applied = await state.history.add(user_id, plays, event_id)
        except HistoryUnavailableError as exc:
            raise ApiError(503, "history_unavailable", str(exc), headers={"Retry-After": "2"}) from None
        if applied.fresh:  # fold the user in now and cache the default list under the new generation
            await user_list(state, engine, user_id, DEFAULT_K, {})
        return PlaysRecorded(
            user_id=user_id, event_id=event_id, duplicate=not applied.fresh, generation=applied.generation
        )

    token = state.settings.admin_token
    if token is None:
        return

    @app.post("/admin/reload", response_model=Reloaded, tags=["admin"])
    async def reload(x_admin_token: Annotated[str, Header()] = "") -> Reloaded:
        """Swap to the newest artifact under ``models_dir`` (if newer) without dropping requests."""
        if not hmac.compare_digest(x_admin_token.encode(), token.get_secret_value().encode()):
            raise ApiError(403, "forbidden", "X-Admin-Token is missing or wrong")
        previous, version = await state.holder.reload()
        return Reloaded(previous=previous, version=version, swapped=previous != version)


def _add_readiness(app: FastAPI, state: RecommenderState, checks: list[DependencyCheck]) -> None:
    # Registered before instrument(): FastAPI matches the first route, and ours adds the model's version to
    # the same body observability's /readyz would give.
    async def readyz() -> JSONResponse:
        status, body = readiness(await run_checks(checks))
        if state.holder.loaded:
            engine = state.holder.engine
            body["model"] = {"version": engine.version, "items": len(engine.item_ids), "ann": engine.use_ann}
        return JSONResponse(body, status_code=status)

    app.add_api_route("/readyz", readyz, methods=["GET"], include_in_schema=False)


def _lifespan(state: RecommenderState) -> Any:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await state.holder.start()
        watcher = None
        if state.settings.watch_interval_s > 0:
            watcher = asyncio.create_task(state.holder.watch(state.settings.watch_interval_s))
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if state.redis is not None:
                await state.redis.aclose()

    return lifespan


def create_app(settings: RecommenderSettings | None = None) -> FastAPI:
    settings = settings or RecommenderSettings()
    state = build_state(settings)
    app = FastAPI(title="recommender", version="1", lifespan=_lifespan(state))
    app.state.recommender = state

    @app.get("/", include_in_schema=False)
    async def home() -> dict[str, Any]:
        links = {"docs": "/docs", "popular": "/popular", "user": "/users/1/recommendations?k=10"}
        return {"service": "recommender", "mode": settings.mode, "links": links}

    _add_list_routes(app, state)
    _add_write_routes(app, state)

    async def model() -> bool:
        return state.holder.loaded

    checks = [DependencyCheck("model", model)]
    if state.redis is not None:  # optional: without Redis, answers are uncached and from the artifact alone
        redis = state.redis
        ping: Callable[[], Awaitable[object]] = redis.ping
        checks.append(DependencyCheck("cache", ping, required=False))
    _add_readiness(app, state, checks)
    instrument(app, service="recommender", checks=checks, tracing=settings.tracing)
    return app


def main() -> None:
    """``python -m recommender.service``: uvicorn on ``HOST``/``PORT`` (defaults 127.0.0.1:8004)."""
    import uvicorn  # noqa: PLC0415 - the server only when run as a process

    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", str(DEFAULT_PORT)))
    get_logger("recommender").info("starting", host=host, port=port)
    # the app object, not "recommender.service:create_app": under -m this module is __main__, and importing it
    # again by name would register its metrics twice
    uvicorn.run(create_app(), host=host, port=port)


if __name__ == "__main__":
    main()
