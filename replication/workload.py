"""The workload: every write carries a unique id and every answer the client got is logged.

A write ends in exactly one of three states, from the client's point of view:

* **confirmed**: the server acknowledged it *and* the guarantee the client asked for held (plain ``OK`` under
  async replication; ``WAIT`` >= 1 replica; a synchronous COMMIT that was not cancelled);
* **refused**: the server said no (``NOREPLICAS``, ``READONLY``): it definitely did not happen;
* **unknown**: anything else: a timeout, a dropped connection, an ``OK`` whose ``WAIT`` reached no replica, a
  COMMIT cancelled while waiting for the standby ("committed locally, but might not have been replicated").

``acknowledged`` is recorded separately: the primary said it applied the write, whatever the guarantee.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
import redis

SYNC_CANCEL_WARNING = "canceling wait for synchronous replication"
REFUSALS = ("NOREPLICAS", "READONLY", "MASTERDOWN")


@dataclass(frozen=True)
class WriteRecord:
    id: str
    phase: str
    acknowledged: bool
    confirmed: bool
    refused: bool
    latency_ms: float
    detail: str = ""

    @property
    def outcome(self) -> str:
        if self.confirmed:
            return "confirmed"
        return "refused" if self.refused else "unknown"


class WriteLog:
    """Every attempted write, in order: the audit compares it with what the new primary holds."""

    def __init__(self) -> None:
        self.records: list[WriteRecord] = []

    def add(self, record: WriteRecord) -> WriteRecord:
        self.records.append(record)
        return record

    def ids(self) -> list[str]:
        return [r.id for r in self.records]

    def dump(self, path: Path) -> None:
        """One JSON line per write: the acknowledgement log a reader can inspect after a run."""
        with path.open("w", encoding="utf-8") as out:
            for record in self.records:
                out.write(json.dumps(asdict(record)) + "\n")


def redis_key(write_id: str) -> str:
    return f"w:{write_id}"


def redis_write(
    client: redis.Redis, write_id: str, phase: str, payload: bytes, *, wait_timeout_ms: int | None = None
) -> WriteRecord:
    """``SET`` one key; with ``wait_timeout_ms``, also ``WAIT 1 <ms>`` in the same round trip."""
    started = time.perf_counter()
    try:
        if wait_timeout_ms is None:
            client.set(redis_key(write_id), payload)
            acked, replicas = True, None
        else:
            pipe = client.pipeline(transaction=False)
            pipe.set(redis_key(write_id), payload)
            pipe.wait(1, wait_timeout_ms)
            _, replicas = pipe.execute()
            acked = True
    except redis.ResponseError as exc:
        refused = str(exc).startswith(REFUSALS)
        return _record(write_id, phase, started, acked=False, refused=refused, detail=str(exc)[:80])
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return _record(write_id, phase, started, acked=False, detail=type(exc).__name__)
    confirmed = replicas is None or int(replicas) >= 1
    detail = "" if replicas is None else f"replicas={replicas}"
    return _record(write_id, phase, started, acked=acked, confirmed=confirmed, detail=detail)


class Watchdog:
    """One long-lived thread that cancels the running query once a deadline passes (a client-side timeout)."""

    def __init__(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="pg-watchdog", daemon=True)
        self._thread.start()

    def arm(self, seconds: float) -> None:
        with self._cond:
            self._deadline = time.monotonic() + seconds
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._deadline is None:
                    self._cond.wait()
                elif (left := self._deadline - time.monotonic()) > 0:
                    self._cond.wait(left)
                else:
                    self._deadline = None
                    with contextlib.suppress(Exception):  # a cancel racing the connection's end is harmless
                        self._cancel()


class PgWriter:
    """Autocommit INSERTs on one connection, each with a client timeout that cancels a hanging COMMIT."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], timeout_s: float) -> None:
        self.conn = conn
        self.timeout_s = timeout_s
        self._warnings: list[str] = []
        conn.add_notice_handler(self._on_notice)
        self._watchdog = Watchdog(conn.cancel_safe)

    def _on_notice(self, diag: psycopg.errors.Diagnostic) -> None:
        self._warnings.append(diag.message_primary or "")

    def write(self, write_id: str, phase: str, payload: str) -> WriteRecord:
        self._warnings.clear()
        self._watchdog.arm(self.timeout_s)
        started = time.perf_counter()
        try:
            self.conn.execute("INSERT INTO writes (id, payload) VALUES (%s, %s)", (write_id, payload))
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            return _record(write_id, phase, started, acked=False, refused=True, detail=type(exc).__name__)
        except psycopg.Error as exc:
            return _record(write_id, phase, started, acked=False, detail=type(exc).__name__)
        finally:
            self._watchdog.disarm()
        if any(SYNC_CANCEL_WARNING in w for w in self._warnings):
            # PostgreSQL cannot un-commit: the row is durable here, but no standby has confirmed it
            return _record(write_id, phase, started, acked=True, detail="committed locally")
        return _record(write_id, phase, started, acked=True, confirmed=True)

    def close(self) -> None:
        self._watchdog.close()
        self.conn.close()


def _record(
    write_id: str,
    phase: str,
    started: float,
    *,
    acked: bool,
    confirmed: bool = False,
    refused: bool = False,
    detail: str = "",
) -> WriteRecord:
    latency_ms = (time.perf_counter() - started) * 1000.0
    return WriteRecord(
        write_id,
        phase,
        acknowledged=acked,
        confirmed=confirmed,
        refused=refused,
        latency_ms=latency_ms,
        detail=detail,
    )
