"""Spark MLlib's implicit ALS (local[1]) matches ours within 5% and writes the same kind of artifact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recommender.artifact import load_newest
from recommender.data import Interactions, synthetic
from recommender.engine import Engine
from recommender.spark_als import spark_session
from recommender.train import holdout_metrics, train, tune

pytestmark = pytest.mark.integration

# Same budget, same split, same objective. Spark MLlib only has weighted-lambda regularisation (lambda times
# each row's number of ratings, ALS-WR), so ours runs in that mode too and both search the same grid.
GRID = {
    "factors": [16],
    "regularization": [0.1, 0.3, 1.0],
    "alpha": [1.0],
    "scale": ["log"],
    "iterations": [10],
}
OURS = {**GRID, "scale_regularization": [True]}
SPARK = GRID
# pyspark start-up and per-stage overhead dominate; on a loaded 2-core machine one fit can take a minute
SLOW = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def sample() -> Interactions:
    # big enough that tuning noise stays well under the 5% checked; Spark's cost is per stage, not per row
    return synthetic(n_users=600, n_items=500, seed=1)


@pytest.fixture(scope="module", autouse=True)
def _one_spark_session() -> Iterator[None]:
    """Start the JVM once for the module (it costs seconds) and stop it afterwards."""
    spark_session("local[1]")
    yield
    spark_session("local[1]").stop()
    spark_session.cache_clear()


def _tuned_ndcg(engine: str, grid: dict[str, Any], sample: Interactions) -> float:
    params = tune(engine, sample.matrix, budget=3, grid=grid)
    return holdout_metrics(engine, params, sample.matrix, seed=0)["ndcg@10"]


@SLOW
def test_spark_als_ndcg_is_within_five_percent_of_ours_when_both_are_tuned_on_the_same_split(
    sample: Interactions,
) -> None:
    ours = _tuned_ndcg("numpy", OURS, sample)
    spark = _tuned_ndcg("spark", SPARK, sample)
    assert abs(spark / ours - 1.0) <= 0.05, f"spark {spark:.4f} vs ours {ours:.4f}"


@SLOW
def test_the_spark_engine_writes_an_artifact_the_engine_serves(tmp_path: Path, sample: Interactions) -> None:
    params = {"factors": 16, "regularization": 0.1, "alpha": 1.0, "scale": "log", "iterations": 3}
    train(sample, out=tmp_path, engine="spark", params=params, ann=(8, 50, 50))
    artifact = load_newest(tmp_path)
    assert artifact.manifest["engine"] == "spark"
    assert artifact.manifest["params"]["scale_regularization"] is True
    engine = Engine(artifact)
    user = str(engine.user_ids[0])
    played = {str(engine.item_ids[i]) for i in engine.history(user)[0]}
    recommended = [s.item for s in engine.recommend(user, 5)]
    assert len(recommended) == 5
    assert not played & set(recommended)
