"""Turning request records into the numbers the answer quotes. Pure functions, no I/O.

Latency percentiles use the nearest-rank method over every request in the window (no histogram buckets, no
sampling), ``slow_share`` is the share of requests slower than 100 ms, and a run's summary is reduced over
repeats by the median, except the integrity keys, where one bad repeat is one too many: ``lost_writes`` takes
the worst repeat and ``checksum_ok`` holds only if it held every time.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from migrations_demo.load import Record

SLOW_MS = 100.0

# the keys of one run in results/migrations.json, in order (issue 5, "Must show")
RUN_KEYS = (
    "migration",
    "mode",
    "requests",
    "errors",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "slow_share",
    "baseline_p99_ms",
    "longest_lock_wait_ms",
    "duration_ms",
    "lost_writes",
    "checksum_ok",
    "rows",
    "rate",
    "repeats",
)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 100]) of unsorted ``values``; 0.0 for no values."""
    if not 0 <= q <= 100:
        raise ValueError("q must be within [0, 100]")
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class WindowStats:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    slow_share: float


def window_stats(records: Iterable[Record], start_s: float, end_s: float) -> WindowStats:
    """Stats over the requests *started* in ``[start_s, end_s)``; an error counts at its recorded latency."""
    inside = [r for r in records if start_s <= r.start_s < end_s]
    latencies = [r.latency_ms for r in inside]
    return WindowStats(
        requests=len(inside),
        errors=sum(1 for r in inside if not r.ok),
        p50_ms=round(percentile(latencies, 50), 2),
        p99_ms=round(percentile(latencies, 99), 2),
        max_ms=round(max(latencies, default=0.0), 2),
        slow_share=round(sum(1 for v in latencies if v > SLOW_MS) / len(latencies), 4) if latencies else 0.0,
    )


def median_run(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One run object from several repeats of the same migration x mode."""
    if not runs:
        raise ValueError("no runs to reduce")
    first = runs[0]
    out: dict[str, Any] = {}
    for key in RUN_KEYS:
        values = [run[key] for run in runs]
        if key == "repeats":
            out[key] = len(runs)
        elif key == "lost_writes":
            out[key] = max(values)
        elif key == "checksum_ok":
            out[key] = all(values)
        elif isinstance(first[key], bool | str):
            out[key] = first[key]
        else:
            median = statistics.median(values)
            out[key] = (
                int(median)
                if all(isinstance(v, int) for v in values) and median == int(median)
                else round(median, 4)
            )
    return out
