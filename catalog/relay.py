"""The outbox relay: ``python -m catalog.relay`` publishes committed play events to a Redis Stream (Q9).

Loop: in one database transaction, claim the oldest unpublished outbox rows with ``FOR UPDATE SKIP LOCKED``
(so several relays share the work and never take the same row), ``XADD`` them to the stream in one
``MULTI``/``EXEC`` (``MAXLEN ~``: trimmed lazily, never unbounded), mark them published and commit.

Delivery is **at least once**: a relay that dies after ``EXEC`` and before the commit leaves its rows
unpublished (the database rolls the claim back), and the next claim sends them again with the same
``event_id``, which is what consumers dedupe by. Nothing is lost: a row is marked only after Redis has
accepted it, and when Redis or the database is down the transaction rolls back, the relay backs off (tenacity,
jittered exponential, capped) and tries again until the dependency returns or SIGTERM arrives; SIGTERM
finishes the batch in hand.

Retention: published rows are kept ``RELAY_RETENTION_S`` (7 days by default: time to audit or replay a
window), then deleted by the same loop, at most ``RELAY_PRUNE_BATCH`` rows every
``RELAY_PRUNE_INTERVAL_S``, so the table holds about a week of plays and each DELETE stays short. A row that
was never published is never pruned, however old.

Embedded mode (SQLite): the same code runs, but SQLite has no row locks (``FOR UPDATE`` is not rendered),
so run a single relay there; two would both publish a row (still at-least-once, but more duplicates).
Without ``REDIS_URL`` there is nowhere to publish: the relay refuses to start and says so.
With ``--port N`` (or ``RELAY_HTTP_PORT``) it serves ``/healthz`` and ``/metrics`` (``relay_http.py``).
See "Transactional outbox" (https://microservices.io/patterns/data/transactional-outbox.html).
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
import time
from types import FrameType

import redis
from prometheus_client import Counter
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, delete, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_when_event_set
from tenacity import wait_exponential_jitter as backoff

from catalog.events import PLAYS_TOPIC
from catalog.models import OutboxEvent
from catalog.relay_http import Heartbeat, serve
from catalog.settings import DEFAULT_DATABASE_URL
from observability import configure_logging, get_logger
from observability.pg import checked_schema, driver_url

# a dependency being down or restarting: back off and retry; anything else is a bug and stops the relay
TRANSIENT = (redis.ConnectionError, redis.TimeoutError, OperationalError, InterfaceError)
PUBLISHED = Counter("relay_events_published_total", "Outbox events added to the stream", ["topic"])
PRUNED = Counter("relay_outbox_pruned_total", "Published outbox rows deleted after the retention period")
FAILURES = Counter("relay_failures_total", "Relay batches rolled back by a dependency error", ["error"])
log = get_logger("catalog.relay")


class RelaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAY_", extra="ignore", populate_by_name=True)

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    schema_name: str = Field(default="catalog", validation_alias="CATALOG_SCHEMA")  # the catalog's tables
    stream: str = Field(default="plays", min_length=1, validation_alias="PLAYS_STREAM")
    batch_size: int = Field(default=100, ge=1, le=10_000)
    poll_interval_s: float = Field(default=0.2, gt=0)  # idle wait when the last claim was not a full batch
    stream_maxlen: int = Field(default=1_000_000, ge=1000)  # approximate: Redis trims whole nodes
    retry_initial_s: float = Field(default=0.1, gt=0)
    retry_max_s: float = Field(default=5.0, gt=0)
    # /healthz and /metrics when set (``--port`` wins); no HTTP at all otherwise
    http_port: int | None = Field(default=None, ge=1, le=65535)
    http_host: str = "127.0.0.1"  # loopback unless told: compose sets 0.0.0.0 so Prometheus can scrape it
    stale_s: float = Field(default=60.0, gt=0)  # /healthz says 503 when the loop has not turned for this long
    retention_s: float = Field(default=7 * 86_400, gt=0)  # published rows older than this are deleted
    prune_interval_s: float = Field(default=60.0, gt=0)
    prune_batch: int = Field(default=10_000, ge=1)

    @field_validator("schema_name")
    @classmethod
    def _plain_schema(cls, value: str) -> str:
        return checked_schema(value)

    @field_validator("redis_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def database_engine(settings: RelaySettings) -> Engine:
    """A synchronous engine: the relay is one loop, with nothing to overlap while it waits."""
    if settings.is_sqlite:  # sqlite+aiosqlite:///file -> the stdlib driver on the same file
        return create_engine("sqlite://" + settings.database_url.partition("://")[2])
    return create_engine(
        driver_url(settings.database_url, "psycopg"),
        connect_args={"options": f"-csearch_path={settings.schema_name}"},
        pool_size=1,
        max_overflow=0,
        pool_pre_ping=True,  # a connection that died with a database restart is replaced, not used
    )


class Relay:
    def __init__(self, engine: Engine, client: redis.Redis, settings: RelaySettings) -> None:
        self.engine = engine
        self.client = client
        self.settings = settings
        self.heartbeat = Heartbeat(settings.stale_s)
        self._claim = (
            select(OutboxEvent.id, OutboxEvent.payload)
            .where(OutboxEvent.topic == PLAYS_TOPIC, OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.created_at)
            .limit(settings.batch_size)
            .with_for_update(skip_locked=True)
        )

    @classmethod
    def connect(cls, settings: RelaySettings) -> Relay:
        if not settings.redis_url:
            raise ValueError("REDIS_URL is not set: the relay publishes to a Redis Stream and has nowhere to")
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
        return cls(database_engine(settings), client, settings)

    def relay_once(self) -> int:
        """Publish one batch; how many events were sent (0: the outbox has nothing unclaimed)."""
        self.heartbeat.beat()
        with self.engine.begin() as conn:
            rows = conn.execute(self._claim).all()
            if not rows:
                return 0
            with self.client.pipeline(transaction=True) as pipe:
                for row in rows:
                    pipe.xadd(
                        self.settings.stream,
                        row.payload,
                        maxlen=self.settings.stream_maxlen,
                        approximate=True,
                    )
                pipe.execute()
            # a crash from here to the commit re-sends this batch: at-least-once, same event ids
            published = update(OutboxEvent).where(OutboxEvent.id.in_([row.id for row in rows]))
            conn.execute(published.values(published_at=dt.datetime.now(dt.UTC)))
        PUBLISHED.labels(PLAYS_TOPIC).inc(len(rows))
        return len(rows)

    def prune_once(self) -> int:
        """Delete up to ``prune_batch`` rows published before the retention cutoff; how many went."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=self.settings.retention_s)
        expired = (
            select(OutboxEvent.id)
            .where(OutboxEvent.published_at.is_not(None), OutboxEvent.published_at < cutoff)
            .order_by(OutboxEvent.published_at)
            .limit(self.settings.prune_batch)
        )
        with self.engine.begin() as conn:
            pruned = conn.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(expired))).rowcount
        PRUNED.inc(pruned)
        return pruned

    def run(self, stopping: threading.Event) -> None:
        """Relay until ``stopping`` is set; dependency errors are retried with backoff, never fatal."""

        first = self.settings.retry_initial_s

        def pause(seconds: float) -> None:
            self.heartbeat.beat()  # backing off is the loop turning: the relay is live, its dependency is not
            stopping.wait(seconds)  # SIGTERM cuts a backoff short

        retrying = Retrying(
            retry=retry_if_exception_type(TRANSIENT),
            # first wait ~retry_initial_s, doubling up to retry_max_s; the jitter keeps relays out of step
            wait=backoff(multiplier=first, jitter=first, max=self.settings.retry_max_s),
            stop=stop_when_event_set(stopping),
            sleep=pause,
            before_sleep=_log_backoff,
            reraise=True,
        )
        log.info("relay_started", stream=self.settings.stream, batch_size=self.settings.batch_size)
        next_prune = time.monotonic()
        while not stopping.is_set():
            try:
                if time.monotonic() >= next_prune:
                    if pruned := retrying(self.prune_once):
                        log.info("relay_pruned", rows=pruned, retention_s=self.settings.retention_s)
                    next_prune = time.monotonic() + self.settings.prune_interval_s
                sent = retrying(self.relay_once)
            except TRANSIENT:
                break  # stopping was set while a dependency was down: the rows wait for the next relay
            if sent:
                log.info("relay_published", events=sent, stream=self.settings.stream)
            if sent < self.settings.batch_size:
                stopping.wait(self.settings.poll_interval_s)
        log.info("relay_stopped")

    def close(self) -> None:
        self.client.close()
        self.engine.dispose()


def _log_backoff(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    name = type(error).__name__
    FAILURES.labels(name).inc()
    wait_s = state.next_action.sleep if state.next_action else 0.0
    log.warning("relay_backoff", error=name, detail=str(error)[:200], attempt=state.attempt_number,
                retry_in_s=round(wait_s, 3))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalog.relay", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="serve /healthz and /metrics here (else RELAY_HTTP_PORT)")
    port = parser.parse_args(argv).port
    configure_logging("relay")
    settings = RelaySettings()
    if port is not None:
        settings = RelaySettings(http_port=port)
    try:
        relay = Relay.connect(settings)
    except ValueError as exc:
        log.error("relay_not_started", reason=str(exc))  # noqa: TRY400 - a setup message, no traceback
        return 2
    if settings.is_sqlite:
        log.warning("relay_sqlite", detail="SQLite has no SKIP LOCKED: run one relay only")
    http = serve(settings.http_host, settings.http_port, relay.heartbeat) if settings.http_port else None
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        relay.run(stopping)
    finally:
        relay.close()
        if http is not None:
            http.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
