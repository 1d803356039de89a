"""The norm-ranged Voyager index finds the exact top 10 for almost every query, and survives a save."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender.ann import ItemIndex, exact_baseline, exact_top_k, recall_at_k
from recommender.catalogue import mixture_catalogue

pytestmark = pytest.mark.unit


def _around(centres: np.ndarray, n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    """``n`` points: a random centre plus isotropic noise."""
    picks = centres[rng.integers(0, len(centres), n)]
    return (picks + noise * rng.standard_normal(picks.shape)).astype(np.float32)


def _factors() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((20, 16)).astype(np.float32)
    items = _around(centres, 3000, rng, 0.4)
    queries = (centres[rng.integers(0, 20, 50)] + 0.3 * rng.standard_normal((50, 16))).astype(np.float32)
    return items, queries


def test_exact_top_k_is_the_argsort_of_inner_products() -> None:
    items, queries = _factors()
    expected = np.argsort(-(items @ queries[0]))[:10]
    assert np.array_equal(exact_top_k(items, queries[0], 10), expected)


def test_a_small_index_has_high_recall_against_exact_search() -> None:
    items, queries = _factors()
    index = ItemIndex.build(items, m=16, ef_construction=100, num_threads=1)
    recall, _ = recall_at_k(index, queries, exact_baseline(items, queries, 10)[0], ef_search=100)
    assert recall >= 0.95


def test_a_saved_index_loads_and_answers_the_same(tmp_path: Path) -> None:
    items, queries = _factors()
    index = ItemIndex.build(items, num_threads=1)
    index.save(tmp_path)
    loaded = ItemIndex.load(tmp_path, items)
    assert len(loaded) == len(items)
    assert np.array_equal(loaded.query(queries[0], 10, 100), index.query(queries[0], 10, 100))


def test_the_synthetic_catalogue_keeps_the_clusters_and_norms_of_the_trained_factors() -> None:
    """Drawn from a mixture fitted to trained factors: each cluster keeps its place, share and norm range."""
    rng = np.random.default_rng(2)
    centres = 3.0 * rng.standard_normal((5, 8)).astype(np.float32)
    trained = np.vstack([_around(centres[i : i + 1], 100 * (i + 1), rng, 0.2) for i in range(5)])
    catalogue = mixture_catalogue(trained, 6000, seed=3)
    distances = np.linalg.norm(catalogue[:, None, :] - centres[None, :, :], axis=2)
    assert np.percentile(distances.min(axis=1), 99) < 1.5  # near a real cluster, not spread between them
    shares = np.bincount(distances.argmin(axis=1), minlength=5) / len(catalogue)
    assert np.allclose(shares, np.arange(1, 6) / 15, atol=0.03)  # clusters drawn in proportion to size
    trained_norms, sampled_norms = np.linalg.norm(trained, axis=1), np.linalg.norm(catalogue, axis=1)
    assert abs(np.median(sampled_norms) / np.median(trained_norms) - 1) < 0.1


def test_the_synthetic_catalogue_is_not_a_set_of_near_copies() -> None:
    """No sample sits on top of a trained vector: near-duplicates would make "recall" a tie-break."""
    rng = np.random.default_rng(4)
    trained = _around(rng.standard_normal((10, 8)).astype(np.float32), 500, rng, 0.5)
    catalogue = mixture_catalogue(trained, 1000, seed=5)
    nearest = np.min(np.linalg.norm(catalogue[:, None, :] - trained[None, :, :], axis=2), axis=1)
    assert np.median(nearest) > 0.2


def test_norm_ranges_keep_recall_high_when_item_norms_vary_tenfold() -> None:
    """Trained factors of popular items are long, of the long tail short: the case plain MIPS-HNSW misses."""
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((30, 16)).astype(np.float32)
    items = _around(centres, 4000, rng, 0.4)
    items *= rng.lognormal(0.0, 1.0, (len(items), 1)).astype(np.float32)  # norms spread over ~10x
    queries = (centres[rng.integers(0, 30, 50)] + 0.3 * rng.standard_normal((50, 16))).astype(np.float32)
    index = ItemIndex.build(items, m=16, ef_construction=100, buckets=4, num_threads=1)
    recall, _ = recall_at_k(index, queries, exact_baseline(items, queries, 10)[0], ef_search=40)
    assert recall >= 0.95


class _CountingIndex:
    """Delegates to a Voyager index and counts the queries it answers."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.queries = 0

    def query(self, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        return self.inner.query(*args, **kwargs)


def test_shorter_norm_ranges_are_skipped_when_they_cannot_reach_the_top_k() -> None:
    """Cauchy-Schwarz pruning: a range whose longest item cannot beat the 10th score is never asked."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((5, 8)).astype(np.float32)
    long_items = _around(centres, 500, rng, 0.3) * 10
    short_items = _around(centres, 500, rng, 0.3) * 0.01
    index = ItemIndex.build(np.vstack([short_items, long_items]), m=16, ef_construction=100, buckets=2)
    index.parts = [(_CountingIndex(part), rows) for part, rows in index.parts]
    found = index.query(centres[0], 10, 64)
    assert set(found.tolist()) <= set(range(500, 1000))  # the top 10 are long items
    assert [part.queries for part, _ in index.parts] == [1, 0]  # the short range was never searched
