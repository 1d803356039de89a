"""The spike bench's figures: p99 of admitted requests per phase, outcome counts, and the load budget."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ratelimit.spike_bench import Sample, SpikeConfig, summarise
from ratelimit.spike_cpu import CpuSampler

pytestmark = pytest.mark.unit

CONFIG = SpikeConfig(warmup_s=1, steady_s=2, spike_s=2, recovery_s=1, steady_users=4, scraper_rps=2)


def test_spike_p99_counts_only_admitted_requests_inside_the_spike_window() -> None:
    """A fast 503 or 429 must never pull the spike's p99 down: only admitted (2xx) requests count."""
    samples = [
        Sample(1.5, "/api/recommendations", 200, "", 50.0),  # steady
        Sample(3.5, "/api/recommendations", 200, "", 80.0),  # spike
        Sample(3.6, "/api/recommendations", 503, "overloaded", 0.5),
        Sample(3.7, "/api/search", 429, "rate_limited", 1.0),
        Sample(3.8, "/api/play", 500, "", 2.0),  # an accidental error
        Sample(5.5, "/api/recommendations", 200, "", 500.0),  # recovery: in no window
    ]
    figures = summarise(samples, CONFIG)

    assert (figures["steady_p99_ms"], figures["spike_p99_ms"]) == (50.0, 80.0)
    assert (figures["admitted"], figures["limited_429"], figures["shed_503"], figures["errors_5xx"]) == (
        3,
        1,
        1,
        1,
    )
    assert figures["spike_per_s"] == {"admitted": 0.5, "limited": 0.5, "shed": 0.5, "answered": 2.0}


def test_the_load_budget_is_reported_from_the_scenario() -> None:
    capacity = summarise([], CONFIG)["capacity"]
    assert capacity["steady_offered_rps"] == 4 * 1.0 + 2
    assert capacity["spike_offered_rps"] == 40 * 1.0 + 2
    assert capacity["admit_ceiling_rps"] == CONFIG.db_concurrency / 0.05


def test_the_cpu_sampler_sees_a_process_burning_its_core_and_an_idle_one() -> None:
    """The bench's check on "the CPU is the queue": busy shares are read from /proc between two instants."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with (
            CpuSampler(lambda: busy.pid, period_s=0.05) as burning,
            CpuSampler(lambda: idle.pid, period_s=0.05) as sleeping,
        ):
            started = time.time()
            time.sleep(0.8)
            ended = time.time()
    finally:
        busy.kill()
        idle.kill()
        busy.wait()
        idle.wait()
    burning_share = burning.busy_percent(started, ended)
    sleeping_share = sleeping.busy_percent(started, ended)
    assert burning_share is not None
    assert sleeping_share is not None
    assert burning_share > 10, "even on a loaded machine a spinning process gets a real share of a core"
    assert sleeping_share < 5
    assert CpuSampler(lambda: idle.pid).busy_percent(started, ended) is None, "no samples, no figure"
