"""Artifacts round-trip (factors, ids, history, index, manifest), are written atomically, and serve via
Engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.artifact import ArtifactError, load, load_newest, save, versions
from recommender.data import Interactions
from recommender.engine import Engine
from recommender.models.als import ALS
from recommender.train import train

pytestmark = pytest.mark.integration

PARAMS = {"factors": 16, "regularization": 1.0, "alpha": 1.0, "scale": "log", "iterations": 8}


@pytest.fixture(scope="module")
def artifact_root(tmp_path_factory: pytest.TempPathFactory, small: Interactions) -> Path:
    root = tmp_path_factory.mktemp("models")
    train(small, out=root, params=PARAMS, ann=(8, 50, 50))
    return root


def test_train_writes_one_complete_artifact_with_metrics_and_data_hash(
    artifact_root: Path, small: Interactions
) -> None:
    (folder,) = versions(artifact_root)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["data"]["sha256"] == small.content_hash()
    assert manifest["data"]["users"] == small.n_users
    assert manifest["params"]["factors"] == 16
    assert 0 < manifest["metrics"]["ndcg@10"] <= 1
    names = {p.name for p in folder.iterdir()}
    assert {"manifest.json", "model.npz", "history.npz", "ann.npz", "ann-0.voy"} <= names
    assert not [p for p in artifact_root.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_an_artifact_loads_back_exactly(artifact_root: Path, small: Interactions) -> None:
    artifact = load_newest(artifact_root)
    assert np.array_equal(artifact.interactions.user_ids, small.user_ids)
    assert np.array_equal(artifact.interactions.item_ids, small.item_ids)
    assert (artifact.interactions.matrix != small.matrix).nnz == 0
    assert artifact.model.user_factors.shape == (small.n_users, 16)
    assert artifact.index is not None
    assert len(artifact.index) == small.n_items


def test_the_newest_of_several_versions_is_loaded(tmp_path: Path, small: Interactions) -> None:
    model = ALS(factors=4, iterations=2, num_threads=1).fit(small.matrix)
    first = save(tmp_path, model, small, engine="numpy", metrics={})
    second = save(tmp_path, model, small, engine="numpy", metrics={})
    (tmp_path / ".tmp-half-written").mkdir()  # a crashed writer's staging folder is never an artifact
    assert versions(tmp_path) == [first, second]
    assert load_newest(tmp_path).path == second


def test_a_missing_or_foreign_artifact_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no model artifact"):
        load_newest(tmp_path)
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "manifest.json").write_text('{"format": 99}')
    with pytest.raises(ArtifactError, match="format 99"):
        load(tmp_path / "v1")


def test_the_engine_recommends_unplayed_items_and_cold_starts_with_popularity(artifact_root: Path) -> None:
    engine = Engine(load_newest(artifact_root))
    user = str(engine.user_ids[0])
    played = {str(engine.item_ids[i]) for i in engine.history(user)[0]}
    recommended = [s.item for s in engine.recommend(user, 10)]
    assert len(recommended) == 10
    assert not played & set(recommended)
    assert [s.item for s in engine.recommend("someone-new", 5)] == [s.item for s in engine.popular(5)]


def test_new_plays_are_folded_in_and_excluded_at_once(artifact_root: Path) -> None:
    engine = Engine(load_newest(artifact_root))
    user = str(engine.user_ids[1])
    first = engine.recommend(user, 10)[0].item
    size = len(engine.history(user)[0])
    assert engine.record_plays(user, {first: 5}) == size + 1
    assert first not in [s.item for s in engine.recommend(user, 10)]
    assert engine.record_plays("brand-new", {first: 3}) == 1  # a new user: fold-in from one play
    assert first not in [s.item for s in engine.recommend("brand-new", 5)]


def test_the_ann_path_excludes_played_items_too(artifact_root: Path) -> None:
    engine = Engine(load_newest(artifact_root), ann_threshold=0)
    assert engine.use_ann
    user = str(engine.user_ids[2])
    played = {str(engine.item_ids[i]) for i in engine.history(user)[0]}
    recommended = [s.item for s in engine.recommend(user, 10)]
    assert len(recommended) == 10
    assert not played & set(recommended)


def test_similar_items_and_explanations_by_external_id(artifact_root: Path) -> None:
    engine = Engine(load_newest(artifact_root))
    item = str(engine.item_ids[0])
    similar = engine.similar(item, 5)
    assert item not in [s.item for s in similar]
    user = str(engine.user_ids[3])
    target = engine.recommend(user, 1)[0].item
    total, parts = engine.explain(user, target, 3)
    played = {str(engine.item_ids[i]) for i in engine.history(user)[0]}
    assert {p.item for p in parts} <= played
    assert total == pytest.approx(engine.recommend(user, 1)[0].score, rel=0.05)
    assert engine.recommend_for_items({item: 10.0}, 3)


def test_the_diversity_cap_limits_items_per_taste_cluster(artifact_root: Path) -> None:
    engine = Engine(load_newest(artifact_root))
    user = str(engine.user_ids[4])
    capped = engine.recommend(user, 10, max_per_cluster=2)
    clusters = [int(engine.clusters[engine.item_row[s.item]]) for s in capped]
    assert len(capped) == 10
    assert max(clusters.count(c) for c in set(clusters)) <= 2
