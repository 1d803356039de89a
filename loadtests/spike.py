"""Locust scenario: steady traffic, then a 10x spike (a big album drop), then back to steady.

Run headless by ``ratelimit.spike_bench`` (and the ``tests/load`` smoke) against ``loadtests.spike_app``;
Locust always runs in its own process because it monkey-patches the interpreter with gevent.

- ``Listener``: a person using the app, about ``SPIKE_LISTENER_RPS`` requests a second, mostly browsing
  recommendations (non-critical) and sometimes starting a stream (critical). Each has its own client address,
  sent as ``X-Forwarded-For`` because Locust plays the load balancer.
- ``Scraper``: one client with an API key hammering the expensive search, far past its rate limit.

Every response is appended to ``SPIKE_REQUEST_LOG`` (CSV: seconds since the test started, route, status, error
code, latency in ms) so the bench computes its own percentiles per phase and per second. Deliberate refusals
(429, and 503 with our ``overloaded`` code) are marked successes for Locust: they are the system working.
"""

from __future__ import annotations

import csv
import itertools
import os
import time
from typing import Any, ClassVar, TextIO

from locust import FastHttpUser, LoadTestShape, constant_throughput, events, task

DELIBERATE = {429: {"rate_limited"}, 503: {"overloaded", "rate_limiter_unavailable"}}


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


WARMUP_S = _env_float("SPIKE_WARMUP_S", 10)
STEADY_S = _env_float("SPIKE_STEADY_S", 30)
SPIKE_S = _env_float("SPIKE_SPIKE_S", 30)
RECOVERY_S = _env_float("SPIKE_RECOVERY_S", 15)
STEADY_USERS = int(_env_float("SPIKE_STEADY_USERS", 40))
MULTIPLIER = _env_float("SPIKE_MULTIPLIER", 10)
LISTENER_RPS = _env_float("SPIKE_LISTENER_RPS", 1.0)
SCRAPER_RPS = _env_float("SPIKE_SCRAPER_RPS", 10.0)

_addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())  # RFC 2544 benchmark range
_log: dict[str, Any] = {}


@events.test_start.add_listener
def _open_log(**_kwargs: Any) -> None:
    path = os.environ.get("SPIKE_REQUEST_LOG")
    if path:
        handle: TextIO = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed at test_stop
        _log.update(handle=handle, writer=csv.writer(handle), started=time.time())
        _log["writer"].writerow(["t_s", "route", "status", "code", "latency_ms"])


@events.test_stop.add_listener
def _close_log(**_kwargs: Any) -> None:
    handle = _log.pop("handle", None)
    if handle is not None:
        handle.close()


def _error_code(response: Any) -> str:
    try:
        return str(response.json()["error"]["code"])
    except Exception:  # not our envelope: an accidental error
        return ""


def _record(route: str, response: Any, started: float) -> None:
    status = int(response.status_code or 0)  # 0: no response at all (connection refused or reset)
    code = _error_code(response) if status >= 400 else ""
    if status in DELIBERATE and code in DELIBERATE[status]:
        response.success()
    writer = _log.get("writer")
    if writer is not None:
        latency_ms = (time.time() - started) * 1000
        writer.writerow([f"{started - _log['started']:.4f}", route, status, code, f"{latency_ms:.2f}"])


class Listener(FastHttpUser):
    wait_time = constant_throughput(LISTENER_RPS)

    def on_start(self) -> None:
        self.forwarded = {"X-Forwarded-For": next(_addresses)}

    def _call(self, method: str, route: str) -> None:
        started = time.time()
        with self.client.request(method, route, headers=self.forwarded, catch_response=True) as response:
            _record(route, response, started)

    @task(8)
    def recommendations(self) -> None:
        self._call("GET", "/api/recommendations")

    @task(2)
    def play(self) -> None:
        self._call("POST", "/api/play")


class Scraper(FastHttpUser):
    fixed_count = 1
    wait_time = constant_throughput(SCRAPER_RPS)

    @task
    def search(self) -> None:
        started = time.time()
        headers = {"X-API-Key": "scraper-key"}
        with self.client.get("/api/search", headers=headers, catch_response=True) as response:
            _record("/api/search", response, started)


class SpikeShape(LoadTestShape):
    """Warm-up and steady at ``STEADY_USERS``, a spike at ``MULTIPLIER`` times that, then recovery; then stop."""

    stages: ClassVar[list[tuple[float, int]]] = [
        (WARMUP_S + STEADY_S, STEADY_USERS),
        (WARMUP_S + STEADY_S + SPIKE_S, round(STEADY_USERS * MULTIPLIER)),
        (WARMUP_S + STEADY_S + SPIKE_S + RECOVERY_S, STEADY_USERS),
    ]

    def tick(self) -> tuple[int, float] | None:
        run_time = self.get_run_time()
        for until, listeners in self.stages:
            if run_time < until:
                return listeners + Scraper.fixed_count, 1000.0  # users arrive at once: it is a spike
        return None
