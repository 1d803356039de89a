"""The deploy job's side of a live run (seeding, Alembic, the backfill, the naive SQL), in its own process.

A deploy job is not the application: running Alembic (imports, script loading, engine setup) in the process
that generates the load would take the GIL from its event loop, and the pause would show up as request
latency that PostgreSQL never caused. So the harness starts one worker process (:class:`Worker`) and
sends it one JSON line per step; the worker answers with one JSON line. A plain subprocess rather than
``multiprocessing``: spawning re-imports the caller's ``__main__``, which a CLI entry point cannot promise
to survive.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

from migrations_demo import backfill, chain
from migrations_demo.locks import LockEvent, LockPolicy
from migrations_demo.seed import seed
from observability.pg import libpq_url


def connect(dsn: str, schema: str, role: str) -> psycopg.Connection[Any]:
    """An autocommit session in ``schema`` named ``<schema>:<role>``, so the lock sampler knows who it is."""
    conn = psycopg.connect(dsn, autocommit=True, application_name=f"{schema}:{role}")
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


# ---------------------------------------------------------------- the steps, run inside the worker


def prepare(
    database_url: str, schema: str, revision: str, rows: int, policy: dict[str, Any]
) -> dict[str, Any]:
    chain.upgrade(database_url, schema, revision, policy=LockPolicy(**policy))
    with connect(libpq_url(database_url), schema, "setup") as conn:
        seeded = seed(conn, rows)
    return {"rows": seeded.sizes.rows, "checksum": seeded.checksum}


def upgrade(database_url: str, schema: str, revision: str, policy: dict[str, Any]) -> dict[str, Any]:
    """Upgrade under the lock policy; the lock timeouts met on the way, and the error if it failed."""
    events: list[LockEvent] = []
    error = None
    try:
        name = f"{schema}:migration"
        chain.upgrade(
            database_url, schema, revision, policy=LockPolicy(**policy), events=events, application_name=name
        )
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    return {"events": [asdict(e) for e in events], "error": error}


def run_backfill(dsn: str, schema: str, job: str, pacing: dict[str, Any]) -> int:
    with connect(dsn, schema, "backfill") as conn:
        return backfill.run(conn, backfill.JOBS[job], pacing=backfill.Pacing(**pacing)).rows


def run_naive(dsn: str, schema: str, statements: list[str]) -> None:
    """The naive way: one transaction, no lock_timeout, no statement_timeout."""
    with connect(dsn, schema, "migration") as conn, conn.transaction():
        for statement in statements:
            conn.execute(statement)


def warm_up() -> int:
    """Import Alembic and load every revision before the clock starts."""
    return len(chain.revisions())


OPERATIONS: dict[str, Callable[..., Any]] = {
    "warm_up": warm_up,
    "prepare": prepare,
    "upgrade": upgrade,
    "backfill": run_backfill,
    "naive": run_naive,
}


def serve(requests: IO[str], replies: IO[str]) -> None:
    """Answer one JSON line per request line until the input closes."""
    for line in requests:
        request = json.loads(line)
        try:
            reply = {"result": OPERATIONS[request.pop("op")](**request)}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


# ---------------------------------------------------------------- the harness's side


class WorkerError(RuntimeError):
    """A step failed inside the worker; the message is the worker's exception."""


class Worker:
    """A long-lived worker process; :meth:`call` is blocking (the harness calls it from a thread)."""

    def __init__(self) -> None:
        package_parent = str(Path(__file__).resolve().parent.parent)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")])),
        }
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from migrations_demo.worker import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._lock = threading.Lock()

    def call(self, op: str, **arguments: Any) -> Any:
        with self._lock:
            stdin, stdout = self._process.stdin, self._process.stdout
            if stdin is None or stdout is None or self._process.poll() is not None:
                raise WorkerError("the worker process is gone")
            stdin.write(json.dumps({"op": op, **arguments}) + "\n")
            stdin.flush()
            line = stdout.readline()
        if not line:
            raise WorkerError("the worker process died")
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(reply["error"])
        return reply["result"]

    def close(self) -> None:
        """End of input tells the worker to exit; wait for it, then release both pipes."""
        with contextlib.suppress(OSError):
            if self._process.stdin:
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._process.stdout:
            self._process.stdout.close()


def main() -> None:
    protocol = sys.stdout
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the protocol
    serve(sys.stdin, protocol)
