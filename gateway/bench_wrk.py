"""``wrk`` for the gateway benchmark: one pinned run, and its report turned into numbers.

``wrk --latency`` prints requests/s and a latency distribution (50/75/90/99%) computed from every request
(HdrHistogram), which is exactly the p99 we want; no sampling on our side. A run that was meant to succeed
and saw non-2xx answers or socket errors is refused rather than averaged in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_P99 = re.compile(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class WrkRun:
    rps: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


def parse(output: str) -> WrkRun:
    rps, p99, total = _RPS.search(output), _P99.search(output), _TOTAL.search(output)
    if rps is None or p99 is None or total is None:
        raise RuntimeError(f"unexpected wrk output (was --latency given?):\n{output}")
    non_2xx = _NON_2XX.search(output)
    errors = _SOCKET_ERRORS.search(output)
    return WrkRun(
        rps=float(rps.group(1)),
        p99_ms=round(float(p99.group(1)) * _TO_MS[p99.group(2)], 3),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def pinned(cpu: int | None) -> list[str]:
    """``taskset -c N`` when there is a core to spare and taskset exists, else nothing."""
    if cpu is None or shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2:
        return []
    return ["taskset", "-c", str(cpu)]


def run(
    url: str,
    *,
    duration_s: float,
    connections: int,
    headers: Sequence[str] = (),
    cpu: int | None = 1,
    expect_success: bool = True,
) -> WrkRun:
    """One wrk run (1 thread: one core for the client) against ``url``."""
    args = [
        *pinned(cpu),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for header in headers:
        args += ["-H", header]
    done = subprocess.run([*args, url], capture_output=True, text=True, check=True, timeout=duration_s + 60)
    result = parse(done.stdout)
    if expect_success and (result.non_2xx or result.socket_errors):
        raise RuntimeError(f"wrk saw errors against {url}:\n{done.stdout}")
    return result


def check_installed() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench-gateway needs wrk (Debian: apt-get install wrk)")
