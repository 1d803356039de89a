"""The norm-ranged Voyager index finds the exact top 10 for almost every query, and survives a save."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.ann import ItemIndex, exact_top_k, recall_at_k
from recommender.bench import catalogue_around

pytestmark = pytest.mark.unit


def _factors() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((20, 16)).astype(np.float32)
    items = catalogue_around(centres, 3000, seed=1, noise=0.4)
    queries = (centres[rng.integers(0, 20, 50)] + 0.3 * rng.standard_normal((50, 16))).astype(np.float32)
    return items, queries


def test_exact_top_k_is_the_argsort_of_inner_products() -> None:
    items, queries = _factors()
    expected = np.argsort(-(items @ queries[0]))[:10]
    assert np.array_equal(exact_top_k(items, queries[0], 10), expected)


def test_a_small_index_has_high_recall_against_exact_search() -> None:
    items, queries = _factors()
    index = ItemIndex.build(items, m=16, ef_construction=100, num_threads=1)
    recall, _, _ = recall_at_k(index, items, queries, 10, ef_search=100)
    assert recall >= 0.95


def test_a_saved_index_loads_and_answers_the_same(tmp_path: Path) -> None:
    items, queries = _factors()
    index = ItemIndex.build(items, num_threads=1)
    index.save(tmp_path)
    loaded = ItemIndex.load(tmp_path, items)
    assert len(loaded) == len(items)
    assert np.array_equal(loaded.query(queries[0], 10, 100), index.query(queries[0], 10, 100))


def test_the_synthetic_catalogue_keeps_the_factors_structure() -> None:
    """Sampled around trained factors: every vector is near one of them, and norms stay in the same range."""
    rng = np.random.default_rng(2)
    trained = rng.standard_normal((50, 8)).astype(np.float32) * rng.uniform(0.2, 3.0, (50, 1)).astype(
        np.float32
    )
    catalogue = catalogue_around(trained, 2000, seed=3, noise=0.1)
    nearest = np.min(np.linalg.norm(catalogue[:, None, :] - trained[None, :, :], axis=2), axis=1)
    assert np.percentile(nearest, 95) < 0.5 * np.median(np.linalg.norm(trained, axis=1))


def test_norm_ranges_keep_recall_high_when_item_norms_vary_tenfold() -> None:
    """Trained factors of popular items are long, of the long tail short: the case plain MIPS-HNSW misses."""
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((30, 16)).astype(np.float32)
    items = catalogue_around(centres, 4000, seed=6, noise=0.4)
    items *= rng.lognormal(0.0, 1.0, (len(items), 1)).astype(np.float32)  # norms spread over ~10x
    queries = (centres[rng.integers(0, 30, 50)] + 0.3 * rng.standard_normal((50, 16))).astype(np.float32)
    index = ItemIndex.build(items, m=16, ef_construction=100, buckets=4, num_threads=1)
    recall, _, _ = recall_at_k(index, items, queries, 10, ef_search=40)
    assert recall >= 0.95
