"""CoDel's standing-queue test on event-loop lag: bursts pass, a queue that never drains is overload."""

from __future__ import annotations

import asyncio
import time

import pytest

from ratelimit.queue_delay import LoopLagProbe, StandingQueue

pytestmark = pytest.mark.unit


def feed(queue: StandingQueue, delays_ms: list[float], start_s: float, step_s: float = 0.011) -> float:
    now = start_s
    for delay in delays_ms:
        queue.observe(delay / 1000, now)
        now += step_s
    return now


def test_a_burst_that_drains_within_the_interval_is_not_overload() -> None:
    """One short sample per 100 ms interval is enough: the queue drained, so nothing is shed."""
    queue = StandingQueue(target_s=0.010, interval_s=0.100)
    feed(queue, [50, 80, 60, 2, 90, 70, 40, 30, 50, 60, 70, 80], start_s=0.0)
    assert not queue.overloaded


def test_a_whole_interval_above_target_is_a_standing_queue_and_one_fast_interval_clears_it() -> None:
    queue = StandingQueue(target_s=0.010, interval_s=0.100)
    now = feed(queue, [15, 20, 30, 12, 40, 25, 18, 22, 30, 11, 14], start_s=0.0)
    assert queue.overloaded, "the minimum over the interval stayed above 10 ms"
    feed(queue, [1] * 11, start_s=now)
    assert not queue.overloaded


def test_nonsense_targets_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        StandingQueue(target_s=0)


async def test_the_probe_sees_a_loop_kept_busy_by_cpu_work_and_stops_cleanly() -> None:
    """CPU work that never yields long enough is exactly the queue an in-flight count cannot see."""
    probe = LoopLagProbe(StandingQueue(target_s=0.010, interval_s=0.050), period_s=0.005)
    probe.ensure_running()
    try:
        async with asyncio.timeout(5):
            while not probe.overloaded:
                time.sleep(0.030)  # noqa: ASYNC251 - blocking on purpose: this is the CPU-bound handler
                await asyncio.sleep(0)
    finally:
        await probe.stop()
    assert probe.overloaded
