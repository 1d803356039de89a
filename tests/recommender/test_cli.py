"""The evaluation CLI and the benchmark's quick mode run end to end on synthetic data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from recommender import bench, evaluate
from recommender.data import synthetic

pytestmark = pytest.mark.integration

MODELS = (
    "popularity",
    "item_knn",
    "item_knn_bm25",
    "als",
    "implicit_als",
    "implicit_item_knn",
    "ease",
    "ranked",
)
MODEL_KEYS = {
    "ndcg@10",
    "ndcg@10_std",
    "precision@10",
    "recall@10",
    "map@10",
    "hit_rate@10",
    "coverage",
    "fit_s",
}


def test_evaluate_cli_writes_every_model_with_the_same_keys(tmp_path: Path) -> None:
    data = synthetic(n_users=150, n_items=200, seed=5)
    path = tmp_path / "plays.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "item", "count"])
        coo = data.matrix.tocoo()
        for u, i, c in zip(coo.row, coo.col, coo.data, strict=True):
            writer.writerow([data.user_ids[u], data.item_ids[i], c])
    out = tmp_path / "eval.json"
    assert (
        evaluate.main(
            [
                "--data",
                str(path),
                "--format",
                "csv",
                "--json",
                str(out),
                "--seeds",
                "0",
                "1",
                "--budget",
                "1",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert tuple(result["models"]) == MODELS
    assert all(set(entry) == MODEL_KEYS for entry in result["models"].values())
    assert result["dataset"]["users"] == data.n_users
    assert result["protocol"]["seeds"] == [0, 1]


def test_bench_quick_writes_the_results_file_with_the_issue_keys(tmp_path: Path) -> None:
    assert bench.main(["--quick", "--results-dir", str(tmp_path), "--no-progress"]) == 0
    result = json.loads((tmp_path / "recommender.json").read_text())
    assert {"meta", "dataset", "protocol", "models", "ann"} <= set(result)
    assert result["meta"]["command"] == "make bench-recommender"
    assert set(result["dataset"]) == {"name", "users", "items", "interactions"}
    assert tuple(result["models"]) == MODELS
    assert all(set(entry) == MODEL_KEYS for entry in result["models"].values())
    assert set(result["ann"]) == {
        "items",
        "M",
        "ef_construction",
        "ef_search",
        "build_s",
        "recall@10",
        "ann_ms",
        "exact_ms",
    }
    personalised = [name for name in MODELS if name != "popularity"]
    assert all(
        result["models"][n]["ndcg@10"] > result["models"]["popularity"]["ndcg@10"] for n in personalised
    )
