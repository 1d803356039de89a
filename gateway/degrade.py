"""Degradation: when the recommender cannot answer, a user still gets a list (popular tracks), never a 5xx.

Recommendations are a nice-to-have on a page, not a reason to fail it. The popular list is fetched from the
recommender's ``GET /popular`` whenever the recommender is healthy and kept twice: in the ``ratelimit``
cache-aside (Redis in services mode, so every gateway process shares it) and as the last good copy in this
process, which survives the cache entry's expiry, since the moment we need it is exactly when the recommender
cannot refresh it. With neither, the answer is an empty list, still marked degraded. The degraded answer has
the fields of the recommender's own list (``user_id`` as a string, ``model_version``, ``source``, ``items``),
so a client reads both the same way; ``tests/contract`` checks that against the recommender's schema.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from gateway.downstream import Downstream, DownstreamError
from gateway.resilience import Deadline
from ratelimit import Cache

POPULAR_KEY = "popular"
DEGRADED_HEADER = "x-degraded"
UNKNOWN_VERSION = "unknown"


class PopularFallback:
    def __init__(
        self,
        recommender: Downstream,
        cache: Cache,
        *,
        ttl_s: float = 300.0,
        fetch_timeout_s: float = 0.5,
        headers: Callable[[float], list[tuple[str, str]]] | None = None,
    ) -> None:
        self.recommender = recommender
        self.cache = cache
        self.ttl_s = ttl_s
        self.fetch_timeout_s = fetch_timeout_s
        self._headers = headers or (lambda _remaining: [])
        self.last: bytes | None = None
        self._warming: set[asyncio.Task[None]] = set()

    async def _fetch(self) -> bytes:
        deadline = Deadline(self.fetch_timeout_s)
        response = await self.recommender.call(
            "GET", "/popular", deadline=deadline, idempotent=True, headers=self._headers
        )
        if response.status_code != 200:
            raise DownstreamError(
                self.recommender.name, "unreachable", f"/popular answered {response.status_code}"
            )
        self.last = response.content
        return response.content

    @property
    def model_version(self) -> str:
        """The version of the model that ranked the list we hold, ``"unknown"`` without one."""
        try:
            body = orjson.loads(self.last) if self.last is not None else None
        except orjson.JSONDecodeError:
            body = None
        version = body.get("model_version") if isinstance(body, dict) else None
        return version if isinstance(version, str) else UNKNOWN_VERSION

    async def popular(self) -> list[Any]:
        """The popular items from the cache, the recommender, or the last good copy; never raises."""
        raw: bytes | None
        try:
            raw = await self.cache.get_or_compute(POPULAR_KEY, self._fetch, self.ttl_s)
        except (DownstreamError, httpx.HTTPError):
            raw = self.last
        if raw is None:
            return []
        self.last = raw
        return items_of(raw)

    def warm_soon(self) -> None:
        """Fetch the list in the background (at start-up, or once the recommender is back) if we have none."""
        if self.last is not None or self._warming:
            return
        task = asyncio.ensure_future(self._warm())
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)

    async def _warm(self) -> None:
        try:
            await self.popular()
        except Exception:
            return

    async def aclose(self) -> None:
        for task in list(self._warming):
            task.cancel()
        await asyncio.gather(*self._warming, return_exceptions=True)


def items_of(raw: bytes) -> list[Any]:
    """The list in the recommender's answer: a bare list, or the ``items`` of an object."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return []
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return list(body["items"])
    return []
