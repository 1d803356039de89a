"""The per-user hold-out hides about 20% of each eligible user's items, seeded, and loses nothing."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.data import Interactions
from recommender.split import holdout_split

pytestmark = pytest.mark.unit


def test_train_and_test_partition_the_data(small: Interactions) -> None:
    split = holdout_split(small.matrix, seed=0)
    assert (split.train + split.test - small.matrix).nnz == 0
    assert split.train.multiply(split.test).nnz == 0


def test_each_eligible_user_hides_a_fifth_and_small_users_hide_nothing(small: Interactions) -> None:
    split = holdout_split(small.matrix, seed=0, min_interactions=5)
    sizes = np.diff(small.matrix.indptr)
    hidden = np.diff(split.test.indptr)
    eligible = sizes >= 5
    assert np.array_equal(hidden[eligible], np.maximum(1, np.round(sizes[eligible] * 0.2)))
    assert hidden[~eligible].sum() == 0
    assert np.array_equal(split.users, np.flatnonzero(eligible))


def test_the_split_depends_only_on_the_seed(small: Interactions) -> None:
    a, b, c = (holdout_split(small.matrix, seed=s) for s in (1, 1, 2))
    assert (a.test != b.test).nnz == 0
    assert (a.test != c.test).nnz > 0
