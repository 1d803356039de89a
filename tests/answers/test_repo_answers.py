"""The real answers in this repository: each has the shape of an answer and quotes only current figures.

This is the test that fails when a benchmark changed a number an answer quotes (run ``answers sync``), when a
key an answer cites no longer exists, or when an answer lacks a section. It runs over whatever answers exist.
"""

from __future__ import annotations

import pytest

from answers import book
from observability.results import RESULTS_DIR

pytestmark = pytest.mark.unit


def test_every_answer_in_the_repo_has_the_shape_and_current_figures() -> None:
    answers = book.discover()
    assert set(answers) <= set(range(1, 13))
    assert all(path.parent == book.ANSWERS_DIR for path in answers.values())
    problems = book.check_book(book.ANSWERS_DIR, RESULTS_DIR)
    assert problems == [], "answers out of shape or out of date (fix, or run `answers sync`):\n" + "\n".join(
        problems
    )
