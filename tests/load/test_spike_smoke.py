"""A few-seconds Locust run of the spike scenario: behaviour only, never speed.

Locust runs as a subprocess (it monkey-patches with gevent) against the spike target app under uvicorn, both
on loopback; the scenario is bounded by its own shape (about 7 s) and by a hard subprocess timeout, and the
server is stopped afterwards whatever happens.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ratelimit.spike_bench import SpikeConfig, read_log, run_locust, spike_server, summarise

pytestmark = pytest.mark.load

# a small app (2 "database" slots, shedder bound 2) so that a small spike overloads it for sure
SMOKE = SpikeConfig(
    warmup_s=1, steady_s=2, spike_s=3, recovery_s=1, steady_users=5, max_in_flight=2, db_concurrency=2
)


def test_a_spike_is_answered_with_429s_and_503s_and_never_another_5xx(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    with spike_server(SMOKE, tmp_path, redis_url=redis_url, prefix=redis_prefix, cpu=None) as base_url:
        samples = read_log(run_locust(SMOKE, base_url, tmp_path, cpu=None))
    figures = summarise(samples, SMOKE)

    assert figures["limited_429"] > 0, f"the scraper should have been rate limited: {figures}"
    assert figures["shed_503"] > 0, f"the spike should have been shed: {figures}"
    assert figures["errors_5xx"] == 0, f"only deliberate 503s are allowed: {figures}"
    assert figures["admitted"] > 0, figures
    start, end = SMOKE.spike_window
    critical = [s for s in samples if s.route == "/api/play" and start <= s.t_s < end]
    assert any(s.outcome == "admitted" for s in critical), (
        "critical routes keep being served during the spike"
    )
    assert {s.outcome for s in samples} <= {"admitted", "limited", "shed"}, "no unplanned 4xx either"
