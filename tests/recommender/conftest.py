"""Shared fixtures for the recommender tests: small synthetic data, BLAS held to one thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from recommender.data import Interactions, SyntheticTruth, generate


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """numpy/scipy BLAS and OpenMP pools stay at one thread: tests share two cores with everything else."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def planted() -> tuple[Interactions, SyntheticTruth]:
    """A small log with 4 planted taste clusters (deterministic)."""
    return generate(n_users=300, n_items=400, n_clusters=4, mean_items_per_user=20, seed=7)


@pytest.fixture(scope="session")
def small(planted: tuple[Interactions, SyntheticTruth]) -> Interactions:
    return planted[0]


@pytest.fixture(scope="session")
def served_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifact root with one small catalogue-aligned model, for the service tests (copy to change)."""
    from tests.recommender.serving_support import train_small  # noqa: PLC0415 - only the service tests need it

    root = tmp_path_factory.mktemp("served-models")
    with threadpool_limits(1):
        train_small(root)
    return root
