"""``python -m recommender.consumer``: the catalog's play events (Redis Stream ``plays``) into the history.

Delivery is at least once: the relay may publish an event twice, and a consumer may die after applying an
entry but before acknowledging it. The *effect* is exactly once because applying is one Lua script
(:data:`recommender.history.APPLY_PLAYS`) that remembers the event id, adds the plays, bumps the user's
history generation (which invalidates their cached lists) and ``XACK``\\ s the entry, all or nothing.

Start-up reads this consumer's own pending entries first (``XREADGROUP ... 0``: delivered before a crash,
never
acknowledged), then new ones (``>``); every ``claim_interval_s`` it takes over entries another consumer left
pending longer than ``claim_idle_ms`` (``XAUTOCLAIM``: that consumer died). An event naming an item the model
does not know, or malformed, is logged and acknowledged: retrying it forever would block nobody but fill the
pending list; it is counted in ``recommender_consumer_events_total{outcome}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import Counter, start_http_server
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from observability import configure_logging, get_logger
from recommender.history import RedisHistory

GROUP = "recommender"
RETRY_S = 1.0
RECOVERABLE = ("NOGROUP", "UNBLOCKED")
EVENTS = Counter("recommender_consumer_events_total", "Stream entries handled, by outcome.", ["outcome"])


class ConsumerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOMMENDER_", extra="ignore", populate_by_name=True)

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", validation_alias="REDIS_URL")
    redis_prefix: str = "recommender:"
    plays_stream: str = Field(default="plays", validation_alias="PLAYS_STREAM")
    group: str = GROUP
    consumer_name: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    batch: int = Field(default=100, ge=1)
    block_ms: int = Field(default=2000, ge=1)
    claim_idle_ms: int = Field(default=30_000, ge=1)
    claim_interval_s: float = Field(default=10.0, gt=0)
    dedupe_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    metrics_port: int = Field(default=0, ge=0)  # > 0: serve /metrics for Prometheus on this port
    # loopback unless told otherwise: metrics describe internals and need not face the network
    metrics_host: str = "127.0.0.1"


@dataclass(frozen=True)
class PlayEvent:
    event_id: str
    user_id: str
    item_id: str
    count: float


def parse(fields: dict[bytes, bytes] | None) -> PlayEvent | None:
    """The event in a stream entry (API.md: event_id, user_id, item_id, count, played_at); None: malformed."""
    if not fields:
        return None
    try:
        values = {k.decode(): v.decode() for k, v in fields.items()}
        count = float(values.get("count", "1"))
        event = PlayEvent(values["event_id"], values["user_id"], values["item_id"], count)
    except (KeyError, ValueError, UnicodeDecodeError):
        return None
    if not (event.event_id and event.user_id.isdigit() and event.item_id.isdigit()) or not count > 0:
        return None
    return event


class PlayConsumer:
    """One consumer of the group; ``knows_item`` decides which items the model can use (None: all)."""

    def __init__(
        self,
        client: aioredis.Redis,
        settings: ConsumerSettings,
        knows_item: Callable[[str], bool] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.stream = settings.plays_stream
        self.knows_item = knows_item or (lambda _item: True)
        self.history = RedisHistory(
            client, prefix=settings.redis_prefix, stream=self.stream, dedupe_ttl_s=settings.dedupe_ttl_s
        )
        self.log = get_logger("recommender.consumer")

    async def ensure_group(self) -> None:
        try:  # from the stream's start ("0"): events published before the first consumer ran still count
            await self.client.xgroup_create(self.stream, self.settings.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def handle(self, entry_id: bytes, fields: dict[bytes, bytes] | None) -> str:
        """Apply one entry (idempotently) and acknowledge it; returns the outcome."""
        entry = entry_id.decode()
        event = parse(fields)
        if event is None:
            outcome = "malformed"
            self.log.warning("play_event_malformed", entry_id=entry)
            await self.client.xack(self.stream, self.settings.group, entry_id)
        elif not self.knows_item(event.item_id):
            outcome = "unknown_item"
            self.log.warning("play_event_unknown_item", entry_id=entry, item_id=event.item_id)
            # still through the script: the event id is remembered and the entry acknowledged, nothing applied
            await self.history.apply(
                event.user_id, {}, event.event_id, group=self.settings.group, entry_id=entry
            )
        else:
            applied = await self.history.apply(
                event.user_id,
                {event.item_id: event.count},
                event.event_id,
                group=self.settings.group,
                entry_id=entry,
            )
            outcome = "applied" if applied.fresh else "duplicate"
        EVENTS.labels(outcome).inc()
        return outcome

    async def _handle_all(self, entries: Sequence[Any]) -> int:
        for entry_id, fields in entries:
            await self.handle(entry_id, fields)
        return len(entries)

    async def read(self, last_id: str, block_ms: int | None) -> int:
        """One XREADGROUP: ``"0"`` re-reads this consumer's pending entries, ``">"`` takes new ones."""
        reply: Any = await self.client.xreadgroup(
            self.settings.group,
            self.settings.consumer_name,
            {self.stream: last_id},
            count=self.settings.batch,
            block=block_ms,
        )
        return sum([await self._handle_all(entries) for _stream, entries in reply or []])

    async def drain_pending(self) -> int:
        """Entries delivered to this consumer name before a restart and never acknowledged."""
        total = 0
        while handled := await self.read("0", None):
            total += handled
        return total

    async def claim_abandoned(self) -> int:
        """XAUTOCLAIM: entries idle longer than ``claim_idle_ms`` in a dead consumer's pending list."""
        total, start = 0, "0-0"
        while True:
            reply: Any = await self.client.xautoclaim(
                self.stream,
                self.settings.group,
                self.settings.consumer_name,
                self.settings.claim_idle_ms,
                start_id=start,
                count=self.settings.batch,
            )
            next_id, claimed = reply[0], reply[1]
            total += await self._handle_all([(i, f) for i, f in claimed])
            if next_id in (b"0-0", "0-0"):
                return total
            start = next_id.decode() if isinstance(next_id, bytes) else next_id

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: recover, then read and claim; a Redis outage is waited out, not a crash loop."""
        while not stop.is_set():
            try:
                await self._serve(stop)
            except (RedisConnectionError, RedisTimeoutError, ResponseError) as exc:
                if isinstance(exc, ResponseError) and not str(exc).startswith(RECOVERABLE):
                    raise
                # down, restarted empty (NOGROUP), or the stream deleted under a blocked read (UNBLOCKED)
                self.log.warning("consumer_redis_unavailable", error=str(exc), retry_in_s=RETRY_S)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_S)

    async def _serve(self, stop: asyncio.Event) -> None:
        await self.ensure_group()
        recovered = await self.drain_pending()  # after an outage too: what we took but never acked
        self.log.info("consumer_started", consumer=self.settings.consumer_name, recovered=recovered)
        loop = asyncio.get_running_loop()
        next_claim = loop.time()
        while not stop.is_set():
            if loop.time() >= next_claim:
                await self.claim_abandoned()
                next_claim = loop.time() + self.settings.claim_interval_s
            await self.read(">", self.settings.block_ms)


def _known_items() -> Callable[[str], bool] | None:
    """The newest artifact's items, when one exists here (the service trains one otherwise; then: all)."""
    from recommender.artifact import ArtifactError, load_newest  # noqa: PLC0415 - only for the CLI
    from recommender.settings import RecommenderSettings  # noqa: PLC0415

    try:
        artifact = load_newest(RecommenderSettings().models_dir)
    except ArtifactError:
        return None
    items = set(artifact.interactions.item_ids.tolist())
    return items.__contains__


async def _main(settings: ConsumerSettings) -> None:
    client = aioredis.Redis.from_url(settings.redis_url)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await PlayConsumer(client, settings, _known_items()).run(stop)
    finally:
        await client.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recommender.consumer", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--port", type=int, help="serve metrics here (prometheus_client answers every path, /healthz too)"
    )
    args = parser.parse_args(argv)
    settings = ConsumerSettings()
    if args.port is not None:
        settings = settings.model_copy(update={"metrics_port": args.port})
    configure_logging("recommender-consumer", os.environ.get("LOG_LEVEL", "INFO"))
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    asyncio.run(_main(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
