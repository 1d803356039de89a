"""ALS (Hu, Koren, Volinsky 2008) solved by vectorised conjugate gradient: correct, structured, fold-in,
explain."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.models.als import ALS, cg_half_step, confidence

pytestmark = pytest.mark.unit


def _blocks() -> sp.csr_matrix:
    """Two tastes: users 0-7 play items 0-5, users 8-15 items 6-11; each user skips two of their block."""
    rows, cols = [], []
    for user in range(16):
        block = range(6) if user < 8 else range(6, 12)
        skipped = {block[user % 6], block[(user + 3) % 6]}
        for item in block:
            if item not in skipped:
                rows.append(user)
                cols.append(item)
    counts = np.random.default_rng(0).integers(1, 50, size=len(rows)).astype(np.float32)
    return sp.csr_matrix((counts, (rows, cols)), shape=(16, 12))


@pytest.mark.parametrize("weighted", [False, True])
def test_cg_with_enough_steps_solves_every_users_normal_equations_exactly(weighted: bool) -> None:
    """k CG steps solve a k x k SPD system: compare with solving (Y^T C_u Y + lambda I) x = Y^T C_u p."""
    rng = np.random.default_rng(1)
    counts = sp.random(30, 20, density=0.3, random_state=2, format="csr", dtype=np.float32) * 20
    conf = confidence(counts, alpha=2.0, scale="log")
    y = rng.standard_normal((20, 4)).astype(np.float32)
    x = np.zeros((30, 4), dtype=np.float32)
    for _ in range(3):  # three rounds of 4 steps, warm-started: converged in float32
        cg_half_step(conf, x, y, regularization=0.5, cg_steps=4, scale_regularization=weighted)
    for u in range(30):
        c = np.asarray(conf[u].todense()).ravel().astype(np.float64)
        c_full = np.where(c > 0, c, 1.0)
        ridge = 0.5 * ((c > 0).sum() if weighted else 1)  # weighted-lambda: times the number of plays
        a = y.T.astype(np.float64) @ (c_full[:, None] * y) + ridge * np.eye(4)
        b = y.T.astype(np.float64) @ (c_full * (c > 0))
        np.testing.assert_allclose(x[u], np.linalg.solve(a, b), rtol=1e-3, atol=1e-4)


def test_als_recovers_the_planted_blocks_of_a_tiny_matrix() -> None:
    counts = _blocks()
    model = ALS(factors=4, regularization=0.1, alpha=2.0, iterations=20, seed=0, num_threads=1).fit(counts)
    scores = model.score(counts, np.arange(16))
    own = np.zeros((16, 12), dtype=bool)
    own[:8, :6] = own[8:, 6:] = True
    unplayed = counts.toarray() == 0
    for user in range(16):
        # every unplayed item of the user's own block outranks every item of the other block
        assert scores[user][unplayed[user] & own[user]].min() > scores[user][~own[user]].max()
    recommended = model.recommend(counts, np.arange(16), k=2)
    assert own[np.arange(16)[:, None], recommended].all()


def test_training_is_deterministic_for_a_seed(small: Interactions) -> None:
    one = ALS(factors=8, iterations=5, seed=3, num_threads=2).fit(small.matrix)
    two = ALS(factors=8, iterations=5, seed=3, num_threads=2).fit(small.matrix)
    assert np.array_equal(one.user_factors, two.user_factors)
    assert np.array_equal(one.item_factors, two.item_factors)


def test_splitting_rows_across_threads_changes_nothing_but_rounding(small: Interactions) -> None:
    """Rows are independent systems, so the blocked parallel half-step equals the serial one."""
    one = ALS(factors=8, iterations=1, seed=3, num_threads=1).fit(small.matrix)
    two = ALS(factors=8, iterations=1, seed=3, num_threads=2).fit(small.matrix)
    for a, b in ((one.user_factors, two.user_factors), (one.item_factors, two.item_factors)):
        assert np.linalg.norm(a - b) < 1e-4 * np.linalg.norm(a)  # float32 rounding, nothing more


def test_fold_in_of_an_existing_user_matches_their_trained_factor(small: Interactions) -> None:
    model = ALS(factors=16, regularization=1.0, iterations=25, seed=0, num_threads=1).fit(small.matrix)
    for user in range(0, small.n_users, 30):
        row = small.matrix[user]
        folded = model.fold_in(row.indices.astype(np.int64), row.data)
        trained = model.user_factors[user]
        cosine = folded @ trained / (np.linalg.norm(folded) * np.linalg.norm(trained))
        assert cosine > 0.995
        assert np.linalg.norm(folded - trained) < 0.05 * np.linalg.norm(trained)


def test_fold_in_of_new_plays_moves_the_user_towards_them(small: Interactions) -> None:
    model = ALS(factors=16, regularization=1.0, iterations=15, seed=0, num_threads=1).fit(small.matrix)
    row = small.matrix[0]
    before = model.fold_in(row.indices.astype(np.int64), row.data)
    new_item = int(np.argmin(model.item_factors @ before))  # the item the user is least likely to play
    after = model.fold_in(np.append(row.indices, new_item).astype(np.int64), np.append(row.data, 500.0))
    assert model.item_factors[new_item] @ after > model.item_factors[new_item] @ before


def test_explanation_contributions_add_up_to_the_score(small: Interactions) -> None:
    """y_i . x_u = sum over played j of c_uj (y_i^T W_u^-1 y_j) (section 5 of the paper)."""
    model = ALS(factors=8, regularization=1.0, iterations=10, seed=0, num_threads=1).fit(small.matrix)
    row = small.matrix[5]
    items, counts = row.indices.astype(np.int64), row.data
    folded = model.fold_in(items, counts)
    target = int(model.recommend(small.matrix, np.array([5]), k=1)[0, 0])
    total, top = model.explain(items, counts, target, n=3)
    assert total == pytest.approx(float(model.item_factors[target] @ folded), rel=1e-3)
    assert len(top) == 3
    assert all(item in set(items.tolist()) for item, _ in top)
    assert [c for _, c in top] == sorted((c for _, c in top), reverse=True)


def test_similar_items_are_ranked_by_factor_cosine_and_exclude_the_item() -> None:
    counts = _blocks()
    model = ALS(factors=4, regularization=0.1, alpha=2.0, iterations=20, seed=0, num_threads=1).fit(counts)
    similar = model.similar_items(0, k=3)
    assert 0 not in similar
    assert set(similar.tolist()) <= set(range(1, 6))  # same block
