"""``answers quiz``: follow-ups become cards, Enter reveals, q quits, the Anki export imports as a deck."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from answers import quiz
from answers.cli import app
from tests.answers.samples import ANSWER, write_book

pytestmark = pytest.mark.unit

TWO_FOLLOW_UPS = ANSWER.replace(
    "## Run it yourself",
    "### What is `cardinality`?\n\n"
    "The number of distinct label sets: **42** <!-- fig: obs.latency.p99_ms -->.\n\n"
    "### An unanswered one?\n\n## Run it yourself",
)


def scripted(*replies: str) -> tuple[Callable[[str], str], list[str]]:
    """An ``ask`` that answers from a script and raises EOFError when it runs out, recording the prompts."""
    prompts: list[str] = []
    queue: Iterator[str] = iter(replies)

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(queue)
        except StopIteration:
            raise EOFError from None

    return ask, prompts


def recorder() -> Console:
    return Console(record=True, width=100, force_terminal=False)


@pytest.fixture
def book_dirs(tmp_path: Path) -> tuple[Path, Path]:
    return write_book(tmp_path, answer=TWO_FOLLOW_UPS)


def invoke(book_dirs: tuple[Path, Path], *args: str, stdin: str = "") -> Result:
    answers_dir, results_dir = book_dirs
    return CliRunner().invoke(
        app,
        ["--answers-dir", str(answers_dir), "--results-dir", str(results_dir), "quiz", *args],
        input=stdin,
    )


def test_each_answered_follow_up_becomes_a_card_with_its_figures_as_plain_values() -> None:
    cards = quiz.cards_of(TWO_FOLLOW_UPS, 8)
    assert [c.question for c in cards] == ["Why histograms and not summaries?", "What is `cardinality`?"]
    assert [c.position for c in cards] == [1, 2]
    assert cards[1].answer == "The number of distinct label sets: **42**."
    assert cards[0].topic == "Q8 · Logging and monitoring"
    assert cards[0].tags == "backend-answers q08 logging-and-monitoring"


def test_an_answer_without_follow_ups_gives_no_cards() -> None:
    assert quiz.cards_of("# Title\n\n## The 60-second answer\n\nText.\n", 3) == []


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (13, "there is no question 13; questions are numbered 1 to 12"),
        (0, "there is no question 0"),
        (10, "question 10 has no answer yet"),
    ],
)
def test_a_bad_number_or_an_unanswered_question_is_a_clear_error(
    book_dirs: tuple[Path, Path], number: int, message: str
) -> None:
    with pytest.raises(quiz.QuizError, match=message):
        quiz.collect(book_dirs[0], number)


def test_the_error_for_an_unanswered_question_lists_the_answered_ones(book_dirs: tuple[Path, Path]) -> None:
    with pytest.raises(quiz.QuizError, match=r"answered: 8$"):
        quiz.collect(book_dirs[0], 10)


def test_an_empty_book_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(quiz.QuizError, match=r"no answer in .* has any yet"):
        quiz.collect(tmp_path)


def test_a_seed_shuffles_repeatably_and_implies_shuffle() -> None:
    cards = [quiz.Card(8, i, f"q{i}", "a") for i in range(1, 21)]
    first = quiz.ordered(cards, shuffle=False, seed=7)
    assert first == quiz.ordered(cards, shuffle=True, seed=7)
    assert first != cards
    assert sorted(first, key=lambda c: c.position) == cards
    assert quiz.ordered(cards, shuffle=False, seed=None) == cards


def test_enter_reveals_each_answer_and_the_run_ends_done() -> None:
    cards = quiz.cards_of(TWO_FOLLOW_UPS, 8)
    ask, prompts = scripted("", "", "")
    console = recorder()
    outcome = quiz.run(cards, ask, console)
    text = console.export_text()
    assert outcome == quiz.Outcome(revealed=2, total=2, quit_early=False)
    assert (
        text.index("Why histograms") < text.index("Histograms aggregate") < text.index("What is cardinality")
    )
    assert "Done: 2 of 2 answers revealed." in text
    # reveal, next, reveal: no "next" prompt after the last card
    assert len(prompts) == 3


def test_q_quits_before_the_answer_is_revealed() -> None:
    cards = quiz.cards_of(TWO_FOLLOW_UPS, 8)
    ask, _ = scripted("", "q")
    console = recorder()
    outcome = quiz.run(cards, ask, console)
    text = console.export_text()
    assert outcome == quiz.Outcome(revealed=1, total=2, quit_early=True)
    assert "What is cardinality" not in text
    assert "Stopped: 1 of 2 answers revealed." in text


@pytest.mark.parametrize("error", [EOFError, KeyboardInterrupt])
def test_end_of_input_or_ctrl_c_stops_cleanly(error: type[BaseException]) -> None:
    def ask(_prompt: str) -> str:
        raise error

    console = recorder()
    outcome = quiz.run(quiz.cards_of(TWO_FOLLOW_UPS, 8), ask, console)
    assert outcome == quiz.Outcome(revealed=0, total=2, quit_early=True)
    assert "Histograms aggregate" not in console.export_text()


def read_deck(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    headers = [line.strip() for line in lines if line.startswith("#")]
    rows = list(csv.reader(line for line in lines if not line.startswith("#")))
    return headers, rows


def test_the_export_is_an_anki_csv_with_html_fields_and_tags(tmp_path: Path) -> None:
    deck = tmp_path / "out" / "deck.csv"
    assert quiz.export_csv(quiz.cards_of(TWO_FOLLOW_UPS, 8), deck) == 2
    headers, rows = read_deck(deck)
    assert headers == [
        "#separator:Comma",
        "#html:true",
        "#notetype:Basic",
        "#deck:Backend interview answers",
        "#columns:Front,Back,Tags",
        "#tags column:3",
    ]
    assert [len(row) for row in rows] == [3, 3]
    front, back, tags = rows[1]
    assert front.startswith("<p>What is <code>cardinality</code>?</p>")
    assert "Q8 · Logging and monitoring" in front
    assert back == "<p>The number of distinct label sets: <strong>42</strong>.</p>"
    assert tags == "backend-answers q08 logging-and-monitoring"


def test_cli_quiz_reveals_on_enter_and_quits_on_q(book_dirs: tuple[Path, Path]) -> None:
    result = invoke(book_dirs, "8", stdin="\n\nq\n")
    assert result.exit_code == 0, result.output
    assert "Histograms aggregate across instances." in result.stdout
    assert "What is cardinality?" in result.stdout
    assert "The number of distinct label sets" not in result.stdout
    assert "Stopped: 1 of 2 answers revealed." in result.stdout


def test_cli_quiz_without_input_stops_cleanly(book_dirs: tuple[Path, Path]) -> None:
    result = invoke(book_dirs)
    assert result.exit_code == 0, result.output
    assert "Stopped: 0 of 2 answers revealed." in result.stdout


def test_cli_quiz_exports_a_deck(book_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    deck = tmp_path / "deck.csv"
    result = invoke(book_dirs, "--export", str(deck), "--seed", "1")
    assert result.exit_code == 0, result.output
    assert f"wrote 2 cards to {deck}" in result.stdout
    _, rows = read_deck(deck)
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(("13",), "there is no question 13"), (("10",), "question 10 has no answer yet")],
)
def test_cli_quiz_errors_are_one_line_with_exit_code_2(
    book_dirs: tuple[Path, Path], args: tuple[str, ...], fragment: str
) -> None:
    result = invoke(book_dirs, *args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
