"""Loaders read the three formats and reject bad files naming the file and the line; the generator is
seeded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.data import DataFormatError, generate, load, load_csv, load_lastfm, load_movielens

pytestmark = pytest.mark.unit


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_lastfm_loader_reads_counts_with_crlf_line_ends_and_sums_repeated_pairs(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "user_artists.dat",
        "userID\tartistID\tweight\r\n2\t51\t10\r\n2\t52\t3\r\n3\t51\t7\r\n2\t51\t5\r\n",
    )
    data = load_lastfm(path)
    assert (data.n_users, data.n_items, data.n_interactions) == (2, 2, 3)
    row, col = list(data.user_ids).index("2"), list(data.item_ids).index("51")
    assert data.matrix[row, col] == 15.0


def test_movielens_loader_counts_each_rating_as_one_interaction(tmp_path: Path) -> None:
    path = _write(tmp_path, "u.data", "1\t10\t5\t881250949\n1\t20\t1\t881250950\n2\t10\t3\t881250951\n")
    data = load_movielens(path)
    assert data.n_interactions == 3
    assert set(data.matrix.data.tolist()) == {1.0}


@pytest.mark.parametrize("header", ["user,item,count\n", ""])
def test_csv_loader_accepts_an_optional_header(tmp_path: Path, header: str) -> None:
    path = _write(tmp_path, "plays.csv", header + "alice,song-a,3\nbob,song-a,1\nalice,song-b,2.5\n")
    data = load_csv(path)
    assert (data.n_users, data.n_items) == (2, 2)
    assert data.matrix.sum() == pytest.approx(6.5)


@pytest.mark.parametrize(
    ("fmt", "text", "line", "message"),
    [
        ("lastfm", "userID\tartistID\tweight\n2\t51\t10\n2\t52\n", 3, "expected 3 tab-separated columns"),
        ("lastfm", "userID\tartistID\tweight\n2\t51\tmany\n", 2, "is not a number"),
        ("lastfm", "user\tartist\tcount\n2\t51\t10\n", 1, "expected the header"),
        ("movielens", "1\t10\t5\t881250949\n1\t20\tfive\t881250950\n", 2, "is not a number"),
        ("csv", "user,item,count\na,b,1\na,b\n", 3, "expected 3 columns"),
        ("csv", "a,b,1\nc,d,-2\n", 2, "must be a positive number"),
        ("csv", "a,,1\n", 1, "empty user or item id"),
    ],
)
def test_a_bad_file_fails_with_a_message_naming_the_file_and_line(
    tmp_path: Path, fmt: str, text: str, line: int, message: str
) -> None:
    path = _write(tmp_path, f"bad.{fmt}", text)
    with pytest.raises(DataFormatError) as caught:
        load(path, fmt)  # type: ignore[arg-type]
    assert str(path) in str(caught.value)
    assert f"line {line}" in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize("text", ["", "user,item,count\n", "\n\n"])
def test_an_empty_file_fails_naming_the_file(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, "empty.csv", text)
    with pytest.raises(DataFormatError, match="no interactions") as caught:
        load_csv(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_fails_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"nope\.dat"):
        load_lastfm(tmp_path / "nope.dat")


def test_the_synthetic_generator_is_deterministic_per_seed() -> None:
    a, _ = generate(n_users=50, n_items=80, seed=3)
    b, _ = generate(n_users=50, n_items=80, seed=3)
    c, _ = generate(n_users=50, n_items=80, seed=4)
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != c.content_hash()


def test_synthetic_popularity_has_a_long_tail() -> None:
    """The top 10% of items collect far more than 10% of the listeners (power-law popularity)."""
    data, _ = generate(n_users=500, n_items=1000, seed=1)
    listeners = np.sort(np.bincount(data.matrix.indices, minlength=data.n_items))[::-1]
    assert listeners[: data.n_items // 10].sum() > 0.35 * listeners.sum()


def test_synthetic_users_mostly_play_their_planted_taste() -> None:
    data, truth = generate(n_users=300, n_items=600, n_clusters=6, taste_strength=0.8, seed=2)
    rows, cols = data.matrix.nonzero()
    in_taste = truth.item_cluster[cols] == truth.user_cluster[rows]
    assert 0.75 < in_taste.mean() < 0.95  # 80% planted, plus chance hits from the random 20%
