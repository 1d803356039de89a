"""The lock-queue trap on real PostgreSQL, and how ``lock_timeout`` + bounded retries avoid it.

The adversary is a transaction that wrote to ``plays`` (ROW EXCLUSIVE) and has not committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from migrations_demo import chain
from migrations_demo.locks import LockEvent, LockPolicy, LockRetriesExhaustedError
from migrations_demo.naive import NAIVE
from tests.migrations_demo.conftest import Database

pytestmark = pytest.mark.integration

ROWS = 200
CHECK = "plays_ms_played_nonnegative"


@pytest.fixture
def adversary(db: Database) -> Iterator[psycopg.Connection[Any]]:
    db.seeded_at("0004", ROWS)
    conn = db.connect("adversary")
    conn.execute("BEGIN")
    conn.execute("LOCK TABLE plays IN ROW EXCLUSIVE MODE")
    yield conn
    conn.close()


def read_ms(db: Database, timeout_ms: int = 5000) -> float:
    """One read by key, as the app does it; its latency in ms."""
    with db.connect("reader") as conn:
        conn.execute(f"SET statement_timeout = {timeout_ms}")
        started = time.monotonic()
        conn.execute("SELECT id, ms_played FROM plays WHERE id = 1").fetchone()
        return (time.monotonic() - started) * 1000


def wait_until_waiting_for_a_lock(db: Database, role: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if db.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
            f"{db.schema}:{role}",
        ):
            return
        time.sleep(0.02)
    raise AssertionError(f"{role} never waited for a lock")


def test_naive_ddl_queued_behind_a_long_transaction_stalls_every_later_query(
    db: Database, adversary: psycopg.Connection[Any]
) -> None:
    def naive() -> None:
        with db.connect("migration") as conn:
            conn.execute(NAIVE["add_check"].statements[0])

    ddl = threading.Thread(target=naive)
    ddl.start()
    wait_until_waiting_for_a_lock(db, "migration")
    # a one-row read that takes a millisecond now waits behind the DDL, which waits behind the adversary
    with pytest.raises(psycopg.errors.QueryCanceled):
        read_ms(db, timeout_ms=1000)
    adversary.rollback()
    ddl.join(timeout=10)
    assert db.constraint_exists(CHECK)
    assert read_ms(db) < 1000


def test_safe_ddl_gives_up_on_lock_timeout_leaves_the_schema_unchanged_and_stalls_reads_only_briefly(
    db: Database, adversary: psycopg.Connection[Any]
) -> None:
    policy = LockPolicy(lock_timeout_ms=300, attempts=3, retry_base_s=0.05, retry_max_s=0.1)
    latencies: list[float] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            latencies.append(read_ms(db))

    thread = threading.Thread(target=reader)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(LockRetriesExhaustedError, match="3 attempts"):
            db.upgrade("0005", policy=policy)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert time.monotonic() - started < 3.0  # fails fast: 3 x 300 ms plus short pauses, not "forever"
    assert chain.current(db.url, db.schema) == "0004"
    assert not db.constraint_exists(CHECK)
    assert latencies
    assert max(latencies) < 1000


def test_safe_ddl_retries_with_jitter_until_the_blocker_ends_then_succeeds(
    db: Database, adversary: psycopg.Connection[Any]
) -> None:
    threading.Timer(1.0, adversary.rollback).start()
    events: list[LockEvent] = []
    policy = LockPolicy(lock_timeout_ms=200, attempts=30, retry_base_s=0.05, retry_max_s=0.3)
    db.upgrade("0005", policy=policy, events=events)
    assert events, "the first attempts timed out while the adversary held its lock"
    assert chain.current(db.url, db.schema) == "0005"
    assert db.constraint_exists(CHECK)
