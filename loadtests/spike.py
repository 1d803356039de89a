"""Locust scenario: steady traffic, then a 10x spike (a big album drop), then back to steady.

Run headless by ``ratelimit.spike_bench`` (and the ``tests/load`` smoke) against ``loadtests.spike_app``;
Locust always runs in its own process because it monkey-patches the interpreter with gevent.

- ``Listener``: a person using the app, about ``SPIKE_LISTENER_RPS`` requests a second (Poisson arrivals),
  mostly browsing recommendations (non-critical) and sometimes starting a stream (critical). Each has its own
  client address, sent as ``X-Forwarded-For`` because Locust plays the load balancer.
- ``Scraper``: one client with an API key hammering the expensive search, far past its rate limit.

All listeners are spawned (and their keep-alive connections opened) during the warm-up; ``STEADY_USERS`` of
them are active throughout, the other nine in ten only during the spike. So the spike is a pure step in
request rate, as an app instance behind a load balancer sees it (the balancer keeps its connections pooled),
and not Locust's own cost of spawning hundreds of users. Every response is appended to ``SPIKE_REQUEST_LOG``
(CSV: seconds since the test started, route, status, error code, latency in ms) so the bench computes its
own percentiles per phase and per second. Deliberate refusals (429, and 503 with our codes) are marked
successes for Locust: they are the system working.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import time
from pathlib import Path
from typing import Any, TextIO

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

SPIKE_START = WARMUP_S + STEADY_S
SPIKE_END = SPIKE_START + SPIKE_S
END = SPIKE_END + RECOVERY_S
ALL_LISTENERS = round(STEADY_USERS * MULTIPLIER)
SPAWN_RATE = 100.0  # users per second, during the warm-up (Locust warns above 100)

_listener_ids = itertools.count()
_clock: dict[str, float] = {"started": time.time()}
_log: dict[str, Any] = {}


def elapsed() -> float:
    """Seconds since the test started: the one timeline of the phases, the shape and the request log."""
    return time.time() - _clock["started"]


@events.test_start.add_listener  # type: ignore[untyped-decorator]  # locust's EventHook is untyped
def _open_log(**_kwargs: Any) -> None:
    _clock["started"] = time.time()
    path = os.environ.get("SPIKE_REQUEST_LOG")
    if path:
        handle: TextIO = Path(path).open("w", newline="", encoding="utf-8")  # noqa: SIM115 - closed at test_stop
        _log.update(handle=handle, writer=csv.writer(handle))
        _log["writer"].writerow(["t_s", "route", "status", "code", "latency_ms"])
        # the wall-clock start of the timeline, so the bench can line up its samples of the server's CPU
        Path(path).with_suffix(".start").write_text(repr(_clock["started"]), encoding="utf-8")


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
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
        writer.writerow([f"{started - _clock['started']:.4f}", route, status, code, f"{latency_ms:.2f}"])


class Listener(FastHttpUser):
    def on_start(self) -> None:
        self.number = next(_listener_ids)
        self.forwarded = {
            "X-Forwarded-For": f"198.18.{self.number // 250}.{self.number % 250 + 1}"
        }  # RFC 2544
        self.client.get("/healthz")  # open the keep-alive connection now, not at the spike

    def active(self, t: float) -> bool:
        """The first ``STEADY_USERS`` listeners always; the rest only while the spike lasts."""
        return self.number < STEADY_USERS or SPIKE_START <= t < SPIKE_END

    def wait_time(self) -> float:
        # exponential think time: independent listeners arrive as a Poisson stream, not in lock-step
        think = random.expovariate(LISTENER_RPS)
        t = elapsed()
        if self.active(t):
            return think
        return (SPIKE_START - t if t < SPIKE_START else END - t) + think  # sleep until this listener's turn

    def _call(self, method: str, route: str) -> None:
        if not self.active(elapsed()):
            return
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
    """All users from the start (spawned in the warm-up); listeners pace themselves; stop at the end."""

    def tick(self) -> tuple[int, float] | None:
        if elapsed() >= END:
            return None
        return ALL_LISTENERS + Scraper.fixed_count, SPAWN_RATE
