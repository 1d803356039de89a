"""The answer book: twelve model answers in Markdown, their figure references, the CLI and the site.

Public surface: figure references (:mod:`answers.figures`), the book's shape checks (:mod:`answers.book`) and
the questions (:mod:`answers.questions`). The CLI (``answers.cli``), the site (``answers.site``) and ``make
demo`` (``answers.stack``) are imported on demand, so importing this package stays cheap.
"""

from answers.book import REQUIRED_SECTIONS, check_book, discover, shape_problems
from answers.figures import FigureError, FigureRef, check, format_value, parse_refs, resolve, sync
from answers.questions import QUESTIONS, Question

__all__ = [
    "QUESTIONS",
    "REQUIRED_SECTIONS",
    "FigureError",
    "FigureRef",
    "Question",
    "check",
    "check_book",
    "discover",
    "format_value",
    "parse_refs",
    "resolve",
    "shape_problems",
    "sync",
]
