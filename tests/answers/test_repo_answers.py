"""The real answers in this repository: each has the shape of an answer and quotes only current figures.

This is the test that fails when a benchmark changed a number an answer quotes (run ``answers sync``), when a
key an answer cites no longer exists, or when an answer lacks a section. It runs over whatever answers exist.
"""

from __future__ import annotations

import pytest

from answers import book, figures
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


def test_no_answer_shows_a_placeholder_outside_a_figure_reference() -> None:
    """A ``**?**`` the figure syntax does not reach would be printed as a literal question mark."""
    for number, path in book.discover().items():
        text = path.read_text(encoding="utf-8")
        stray = text.count("**?**") - sum(
            1 for match in figures.FIGURE_RE.finditer(text) if match["value"] == "?"
        )
        assert stray == 0, f"q{number:02d}: {stray} placeholder(s) not followed by a figure reference"
