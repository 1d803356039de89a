"""The serving bench's --quick path: the real service under uvicorn, Locust as a subprocess, a few seconds."""

from __future__ import annotations

import math

import pytest
from threadpoolctl import threadpool_limits

from recommender.data import synthetic
from recommender.models.als import ALS
from recommender.serving_bench import measure_serving

pytestmark = pytest.mark.load


def test_the_quick_serving_bench_measures_both_paths_without_errors() -> None:
    """max_rps, then at 70% of it computed and cached latencies; a 5xx would fail Locust's threshold."""
    interactions = synthetic(n_users=200, n_items=300)
    with threadpool_limits(1):
        model = ALS(factors=16, iterations=3).fit(interactions.matrix)
    block = measure_serving({"interactions": interactions, "model": model, "quick": True})
    assert block["max_rps"] > 0
    assert 0 < block["rps"] <= block["max_rps"] * 1.2
    for key in ("p50_ms", "p99_ms", "cached_p99_ms"):
        assert math.isfinite(block[key]), key
        assert block[key] > 0, key
    assert 0 < block["cached_share"] < 1
