"""Locust scenario for the catalog: one endpoint (or all) of one API version, closed loop, no think time.

Used by ``catalog.bench`` (headless, one run per endpoint and version) and by hand::

    python -m catalog.targets --key key.pem --out targets.json      # requests + tokens for a seeded schema
    CATALOG_TARGETS=targets.json CATALOG_VERSION=v2 locust -f loadtests/catalog.py --host http://127.0.0.1:8001

Environment: ``CATALOG_TARGETS`` (JSON from ``catalog.targets``), ``CATALOG_VERSION`` (``v1``/``v2``),
``CATALOG_ENDPOINT`` (``playlist``, ``deep_page``, ``artist_tracks``, ``library`` or ``all``),
``CATALOG_REQUEST_LOG`` (optional CSV: endpoint, status, latency in ms, bytes on the wire).
Requests send ``Accept-Encoding: gzip`` as every real client does. Thresholds: the run fails (exit code 1)
if more than ``CATALOG_MAX_FAILURE_RATIO`` (default 1%) of requests fail, or if any answer is a 5xx.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any, TextIO

from locust import FastHttpUser, constant, events, task

VERSION = os.environ.get("CATALOG_VERSION", "v2")
ENDPOINT = os.environ.get("CATALOG_ENDPOINT", "all")
MAX_FAILURE_RATIO = float(os.environ.get("CATALOG_MAX_FAILURE_RATIO", "0.01"))

_state: dict[str, Any] = {"server_errors": 0}


def _requests() -> list[tuple[str, str, str]]:
    """(endpoint, path, token) for this run, shuffled the same way every time, endpoints interleaved."""
    path = os.environ.get("CATALOG_TARGETS")
    if not path:
        raise SystemExit("set CATALOG_TARGETS to a file written by `python -m catalog.targets`")
    targets: dict[str, dict[str, list[list[str]]]] = json.loads(Path(path).read_text(encoding="utf-8"))
    names = list(targets) if ENDPOINT == "all" else [ENDPOINT]
    per_endpoint = []
    for name in names:
        entries = [(name, p, t) for p, t in targets[name][VERSION]]
        random.Random(4).shuffle(entries)
        per_endpoint.append(entries)
    # endpoints take turns, so even a short mixed run reaches each of them
    return [entry for turn in itertools.zip_longest(*per_endpoint) for entry in turn if entry is not None]


@events.test_start.add_listener  # type: ignore[untyped-decorator]  # locust's EventHook is untyped
def _start(**_kwargs: Any) -> None:
    _state["requests"] = itertools.cycle(_requests())
    log = os.environ.get("CATALOG_REQUEST_LOG")
    if log:
        handle: TextIO = Path(log).open("w", newline="", encoding="utf-8")  # noqa: SIM115 - closed at test_stop
        _state.update(handle=handle, writer=csv.writer(handle))
        _state["writer"].writerow(["endpoint", "status", "latency_ms", "bytes"])


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _stop(**_kwargs: Any) -> None:
    handle = _state.pop("handle", None)
    if handle is not None:
        handle.close()


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _thresholds(environment: Any, **_kwargs: Any) -> None:
    stats = environment.stats.total
    if stats.num_requests and stats.fail_ratio > MAX_FAILURE_RATIO:
        print(f"threshold: failure ratio {stats.fail_ratio:.2%} > {MAX_FAILURE_RATIO:.0%}")
        environment.process_exit_code = 1
    if _state["server_errors"]:
        print(f"threshold: {_state['server_errors']} responses were 5xx")
        environment.process_exit_code = 1


class CatalogUser(FastHttpUser):
    wait_time = constant(0)  # closed loop: the next request leaves when the last answer arrived

    @task
    def request(self) -> None:
        endpoint, path, token = next(_state["requests"])
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        started = time.perf_counter()
        with self.client.get(
            path, headers=headers, name=f"{VERSION} {endpoint}", catch_response=True
        ) as response:
            latency_ms = (time.perf_counter() - started) * 1000
            status = int(response.status_code or 0)
            if status >= 500:
                _state["server_errors"] += 1
            wire = (
                int(response.headers.get("Content-Length") or len(response.content or b"")) if status else 0
            )
            writer = _state.get("writer")
            if writer is not None:
                writer.writerow([endpoint, status, f"{latency_ms:.3f}", wire])
