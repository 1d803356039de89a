"""Accuracy on real Redis: 4 processes x 50 concurrent clients bursting at one key admit exactly the limit.

Each burst starts all 200 clients together (a barrier across processes) and sends 1,000 requests at one fresh
key for a limit of 100. With a long period nothing ends or refills during a burst: the fixed window, the
sliding log and GCRA must admit exactly ``limit``, and the sliding window counter must stay within its
documented bound (exactly ``limit`` unless the burst straddles an aligned window boundary, then at most
``previous * f`` more, f being how far into the new window it ran). With a short period, the fixed window and
the sliding log are hit again once the window has passed, and must admit exactly ``limit`` in the second
window too.
"""

from __future__ import annotations

import math
import multiprocessing
import uuid

import pytest

from ratelimit.algorithms import gcra
from ratelimit.algorithms.common import Window
from ratelimit.decision import ALGORITHMS, Algorithm, Limit
from tests.ratelimit import algorithms_workers
from tests.ratelimit.algorithms_workers import BurstJob, BurstResult
from tests.support.isolation import temporary_key_prefix

PROCESSES, CLIENTS, HITS = 4, 50, 5
LONG = Limit(100, 3600)  # nothing ends or refills during a burst (GCRA's interval is 36 s)
SHORT = Limit(100, 1.5)  # two windows in a few seconds
Round = tuple[int, float]  # (admitted, seconds from the first client's start to the last one's end)


@pytest.fixture(scope="module")
def bursts(redis_url: str) -> dict[tuple[str, Limit], list[Round]]:
    """Run every burst once for the module: (algorithm, limit) -> one (admitted, span) per round."""
    plan = tuple((algorithm, f"{algorithm}-long", LONG, 1) for algorithm in ALGORITHMS) + tuple(
        (algorithm, f"{algorithm}-short", SHORT, 2) for algorithm in ("fixed_window", "sliding_window_log")
    )
    with temporary_key_prefix(redis_url) as prefix:
        job = BurstJob(redis_url, f"{prefix}{uuid.uuid4().hex[:8]}:", plan, CLIENTS, HITS)
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        processes = [
            context.Process(target=algorithms_workers.burst, args=(job, barrier, results))
            for _ in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        try:
            expected_rows = PROCESSES * sum(rounds for *_, rounds in plan)
            rows: list[BurstResult] = [results.get(timeout=180) for _ in range(expected_rows)]
        finally:
            for process in processes:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()
    summary: dict[tuple[str, Limit], list[Round]] = {}
    for algorithm, key, limit, rounds in plan:
        summary[algorithm, limit] = []
        for round_ in range(rounds):
            mine = [row for row in rows if row[0] == key and row[1] == round_]
            span = max(row[4] for row in mine) - min(row[3] for row in mine)
            summary[algorithm, limit].append((sum(row[2] for row in mine), span))
    return summary


@pytest.mark.integration
@pytest.mark.parametrize("algorithm", ["fixed_window", "sliding_window_log", "gcra"])
def test_a_burst_from_two_hundred_clients_in_four_processes_admits_exactly_the_limit(
    bursts: dict[tuple[str, Limit], list[Round]], algorithm: Algorithm
) -> None:
    [(admitted, span)] = bursts[algorithm, LONG]
    assert 10 * LONG.limit <= PROCESSES * CLIENTS * HITS  # demand far above the limit
    assert span < gcra.interval_us(Window.of(LONG)) / 1e6  # so not even GCRA could refill a unit meanwhile
    assert admitted == LONG.limit


@pytest.mark.integration
@pytest.mark.parametrize("algorithm", ["fixed_window", "sliding_window_log"])
def test_the_next_window_admits_exactly_the_limit_again(
    bursts: dict[tuple[str, Limit], list[Round]], algorithm: Algorithm
) -> None:
    rounds = bursts[algorithm, SHORT]
    assert all(span < SHORT.period for _, span in rounds), f"a burst outlasted its window: {rounds}"
    assert [admitted for admitted, _ in rounds] == [SHORT.limit, SHORT.limit]


@pytest.mark.integration
def test_a_burst_stays_within_the_sliding_window_counters_documented_bound(
    bursts: dict[tuple[str, Limit], list[Round]],
) -> None:
    [(admitted, span)] = bursts["sliding_window_counter", LONG]
    worst_straddle = math.ceil(LONG.limit * span / LONG.period)  # previous * f, with previous <= limit
    assert LONG.limit <= admitted <= LONG.limit + worst_straddle
