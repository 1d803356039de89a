"""The outbox relay on real PostgreSQL and Redis: once in the normal case, at least once after a crash, never
twice from two relays at once, nothing lost while Redis is down (Q9)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from prometheus_client import REGISTRY
from sqlalchemy import Engine, select, update

from catalog.models import Base, OutboxEvent
from catalog.relay import Relay, RelaySettings, database_engine, main
from tests.catalog.relay_support import add_events, relay_settings, stream_events, unpublished, wait_until
from tests.support.servers import PrivateRedis, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def stream(redis_prefix: str) -> str:
    return f"{redis_prefix}plays"


@pytest.fixture
def settings(database_url: str, pg_schema: str, redis_url: str, stream: str) -> RelaySettings:
    """The outbox table from the models (test_migrations proves the Alembic chain builds the same)."""
    settings = relay_settings(database_url, pg_schema, redis_url, stream, batch_size=50)
    engine = database_engine(settings)
    Base.metadata.create_all(engine, tables=[Base.metadata.tables["outbox"]])
    engine.dispose()
    return settings


@pytest.fixture
def db(settings: RelaySettings) -> Iterator[Engine]:
    """The test's own connections, so its checks never queue for a relay's single pooled connection."""
    engine = database_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def relay(settings: RelaySettings) -> Iterator[Relay]:
    relay = Relay.connect(settings)
    yield relay
    relay.close()


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@contextlib.contextmanager
def running(relay: Relay) -> Iterator[threading.Thread]:
    """``relay.run`` in a thread, stopped (as SIGTERM would) on exit."""
    stopping = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stopping,), daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stopping.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the relay did not stop when asked"


def test_each_event_is_published_once_in_order_with_its_payload_as_the_fields(
    relay: Relay, db: Engine, client: redis.Redis, stream: str
) -> None:
    ids = add_events(db, 120)
    sent = [relay.relay_once() for _ in range(4)]
    assert sent == [50, 50, 20, 0]
    events = stream_events(client, stream)
    assert [event["event_id"] for event in events] == ids  # one relay keeps the outbox's order
    assert set(events[0]) == {"event_id", "user_id", "item_id", "count", "played_at"}
    assert unpublished(db) == 0
    assert relay.relay_once() == 0
    assert client.xlen(stream) == 120


def test_a_relay_killed_between_xadd_and_commit_leaves_a_duplicate_with_the_same_event_id(
    settings: RelaySettings, db: Engine, client: redis.Redis, stream: str, tmp_path: Path
) -> None:
    """A trigger holds the relay's ``UPDATE ... published_at`` on an advisory lock the test owns, so the
    process is SIGKILLed after Redis accepted the batch and before the commit. Its claim rolls back; the next
    relay sends the batch again: every event twice, each copy with the same id (consumers dedupe by it).
    That next relay is ``python -m catalog.relay --port N`` too: live on /healthz, counting on /metrics, and
    SIGTERM stops it cleanly (exit 0)."""
    ids = add_events(db, 30)
    lock_key = random.randrange(1, 2**31)
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CATALOG_SCHEMA": settings.schema_name,
        "REDIS_URL": str(settings.redis_url),
        "PLAYS_STREAM": stream,
        "RELAY_POLL_INTERVAL_S": "0.05",
    }
    command = [sys.executable, "-m", "catalog.relay"]
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {settings.schema_name}")
        conn.execute(
            f"CREATE FUNCTION hold_publish() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"PERFORM pg_advisory_xact_lock({lock_key}); RETURN NEW; END $$; "
            "CREATE TRIGGER hold_publish BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION hold_publish()"
        )
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key,))
        with (tmp_path / "first.log").open("wb") as log:
            first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_until(lambda: client.xlen(stream) == len(ids), "the first relay's XADD")
                time.sleep(0.1)  # it is now waiting in the UPDATE, inside the uncommitted claim
                assert first.poll() is None
            finally:
                first.kill()
                first.wait(timeout=10)
        conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key,))
        conn.execute("DROP TRIGGER hold_publish ON outbox")  # waits for the dead session's rollback
    assert unpublished(db) == len(ids), "the killed relay's claim rolled back"
    port = free_port()
    with (tmp_path / "second.log").open("wb") as log:
        second = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until(lambda: unpublished(db) == 0, "the second relay's commit")
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", trust_env=False, timeout=5)
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", trust_env=False, timeout=5)
            assert health.status_code == 200
            assert 'relay_events_published_total{topic="plays"} 30.0' in metrics.text
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=10) == 0
    copies = Counter(event["event_id"] for event in stream_events(client, stream))
    assert copies == dict.fromkeys(ids, 2)
    assert b"relay_stopped" in (tmp_path / "second.log").read_bytes()


def test_a_claimed_batch_is_skipped_by_another_relay_not_waited_for_or_taken(
    relay: Relay, settings: RelaySettings, db: Engine
) -> None:
    """SKIP LOCKED, step by step: while one transaction holds the oldest 50 rows, another relay publishes
    the next 50 at once instead of blocking on them or sending them too."""
    ids = add_events(db, 100)
    with db.connect() as holder, holder.begin():
        held = [str(row.id) for row in holder.execute(relay._claim)]  # the relay's own claim statement
        assert relay.relay_once() == 50
        assert relay.relay_once() == 0  # the rest are locked: skipped, not waited for
    assert held == ids[:50]
    assert [event["event_id"] for event in stream_events(relay.client, settings.stream)] == ids[50:]


def test_two_relays_running_together_publish_every_event_exactly_once(
    relay: Relay, settings: RelaySettings, db: Engine, client: redis.Redis, stream: str
) -> None:
    ids = add_events(db, 600)
    other = Relay.connect(settings.model_copy(update={"batch_size": 7}))
    try:
        with running(relay), running(other):
            wait_until(lambda: unpublished(db) == 0, "all 600 events published")
    finally:
        other.close()
    copies = Counter(event["event_id"] for event in stream_events(client, stream))
    assert copies == dict.fromkeys(ids, 1)


def test_while_redis_is_down_events_wait_in_the_outbox_and_go_out_when_it_returns(
    settings: RelaySettings, db: Engine, private_redis: PrivateRedis
) -> None:
    failures_before = REGISTRY.get_sample_value("relay_failures_total", {"error": "ConnectionError"}) or 0.0
    relay = Relay.connect(settings.model_copy(update={"redis_url": private_redis.url}))
    try:
        ids = add_events(db, 10)
        private_redis.stop()
        with running(relay) as thread:
            wait_until(
                lambda: (
                    (REGISTRY.get_sample_value("relay_failures_total", {"error": "ConnectionError"}) or 0)
                    >= failures_before + 3
                ),
                "three failed attempts",
            )
            assert thread.is_alive(), "a Redis outage never stops the relay"
            assert unpublished(db) == 10, "nothing is marked published while Redis is down"
            private_redis.start()
            wait_until(lambda: unpublished(db) == 0, "publishing after Redis returned")
    finally:
        relay.close()
    events = stream_events(private_redis.client(), settings.stream)
    assert [event["event_id"] for event in events] == ids


def test_in_embedded_mode_a_single_relay_publishes_from_sqlite(
    tmp_path: Path, redis_url: str, client: redis.Redis, stream: str
) -> None:
    """SQLite renders no FOR UPDATE; one relay still publishes each event once."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'catalog.sqlite3'}"
    relay = Relay.connect(relay_settings(url, "catalog", redis_url, stream, batch_size=4))
    try:
        Base.metadata.create_all(relay.engine)
        ids = add_events(relay.engine, 6)
        assert [relay.relay_once() for _ in range(3)] == [4, 2, 0]
        assert unpublished(relay.engine) == 0
    finally:
        relay.close()
    assert [event["event_id"] for event in stream_events(client, stream)] == ids


def test_the_relay_refuses_to_start_without_redis_and_says_why(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ.update({"DATABASE_URL": database_url, "REDIS_URL": ""})
    assert main([]) == 2
    assert "REDIS_URL is not set" in capsys.readouterr().out


def _age(engine: Engine, ids: list[str], column: str, days: float) -> None:
    """Move ``column`` of these rows ``days`` into the past, as if they were written then."""
    with engine.begin() as conn:
        conn.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_([uuid.UUID(i) for i in ids]))
            .values({column: dt.datetime.now(dt.UTC) - dt.timedelta(days=days)})
        )


def _remaining(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {str(row_id) for row_id in conn.execute(select(OutboxEvent.id)).scalars()}


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_published_rows_are_pruned_after_the_retention_period_and_unpublished_ones_never(
    backend: str, settings: RelaySettings, tmp_path: Path, redis_url: str, stream: str
) -> None:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'catalog.sqlite3'}"
        settings = relay_settings(url, "catalog", redis_url, stream)
    relay = Relay(
        database_engine(settings),
        redis.Redis.from_url(redis_url),
        settings.model_copy(update={"prune_batch": 3}),
    )
    try:
        Base.metadata.create_all(relay.engine, tables=[Base.metadata.tables["outbox"]])
        old, recent = add_events(relay.engine, 5), add_events(relay.engine, 2)
        while relay.relay_once():
            pass
        stuck = add_events(relay.engine, 1)  # never published (say, written while every relay was down)
        _age(relay.engine, old, "published_at", days=8)
        _age(relay.engine, stuck, "created_at", days=30)
        before = REGISTRY.get_sample_value("relay_outbox_pruned_total") or 0.0

        assert [relay.prune_once() for _ in range(3)] == [3, 2, 0]  # bounded batches, then nothing left to do
        assert _remaining(relay.engine) == set(recent) | set(stuck)
        assert REGISTRY.get_sample_value("relay_outbox_pruned_total") == before + 5
    finally:
        relay.close()


def test_the_running_relay_prunes_on_its_own(
    relay: Relay, db: Engine, client: redis.Redis, stream: str
) -> None:
    old = add_events(db, 3)
    while relay.relay_once():
        pass
    _age(db, old, "published_at", days=8)
    with running(relay):
        wait_until(lambda: not _remaining(db), "the pruning of expired published rows")
    assert client.xlen(stream) == 3  # pruning the outbox never touches what was published
