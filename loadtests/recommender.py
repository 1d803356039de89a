"""Locust scenario for the recommender: a mix of uncached and cached recommendation requests.

Half the requests ask for a random user with a random ``k`` (almost always computed: a cache miss), half for
one of a few hot users with ``k=10`` (cached after the first). The service says which it was in ``X-Cache``
(hit / miss / bypass), so latencies are split by what really happened, not by what was intended. Used by
``recommender.serving_bench`` (headless) and by hand::

    RECOMMENDER_USER_IDS=1,2,3 locust -f loadtests/recommender.py --host http://127.0.0.1:8004

Environment: ``RECOMMENDER_USER_IDS`` (comma-separated ids the model knows; default 1..1000),
``RECOMMENDER_RATE`` (total requests/s for the whole run; unset: closed loop, as fast as answers come),
``RECOMMENDER_REQUEST_LOG`` (optional CSV: cache, status, latency_ms). Threshold: the run fails (exit code 1)
on any 5xx or when more than 1% of requests fail.
"""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path
from typing import Any, TextIO

from locust import FastHttpUser, between, constant_throughput, events, task

HOT_USERS = 20
USER_IDS = os.environ.get("RECOMMENDER_USER_IDS", ",".join(str(i) for i in range(1, 1001))).split(",")
RATE = float(os.environ.get("RECOMMENDER_RATE", "0"))
MAX_FAILURE_RATIO = 0.01

_state: dict[str, Any] = {"server_errors": 0}


@events.test_start.add_listener  # type: ignore[untyped-decorator]  # locust's EventHook is untyped
def _start(environment: Any, **_kwargs: Any) -> None:
    log = os.environ.get("RECOMMENDER_REQUEST_LOG")
    if log:
        handle: TextIO = Path(log).open("w", newline="", encoding="utf-8")  # noqa: SIM115 - closed at test_stop
        _state.update(handle=handle, writer=csv.writer(handle))
        _state["writer"].writerow(["cache", "status", "latency_ms"])
    users = max(1, environment.parsed_options.num_users if environment.parsed_options else 1)
    _state["per_user_rate"] = RATE / users if RATE > 0 else 0.0


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _stop(**_kwargs: Any) -> None:
    handle = _state.pop("handle", None)
    if handle is not None:
        handle.close()


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _thresholds(environment: Any, **_kwargs: Any) -> None:
    total = environment.stats.total
    if _state["server_errors"] or (total.num_requests and total.fail_ratio > MAX_FAILURE_RATIO):
        environment.process_exit_code = 1


class Listener(FastHttpUser):
    def wait_time(self) -> float:
        rate = _state.get("per_user_rate", 0.0)
        if rate > 0:
            return float(constant_throughput(rate)(self))
        return float(between(0, 0)(self))

    def _get(self, path: str) -> None:
        with self.client.get(path, name="/users/[id]/recommendations", catch_response=True) as response:
            status = response.status_code
            if status >= 500:
                _state["server_errors"] += 1
                response.failure(f"server error {status}")
            elif status != 200:
                response.failure(f"status {status}")
            writer = _state.get("writer")
            if writer is not None:
                cache = response.headers.get("x-cache", "") if response.headers else ""
                writer.writerow([cache, status, round(response.request_meta["response_time"], 3)])

    @task
    def uncached(self) -> None:
        self._get(f"/users/{random.choice(USER_IDS)}/recommendations?k={random.randint(5, 60)}")

    @task
    def cached(self) -> None:
        self._get(f"/users/{random.choice(USER_IDS[:HOT_USERS])}/recommendations?k=10")
