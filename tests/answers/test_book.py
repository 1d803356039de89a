"""The shape checker and the whole-book check that the real-repo test relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from answers import book, figures
from answers.questions import QUESTIONS
from tests.answers.samples import ANSWER, RESULTS, write_book

pytestmark = pytest.mark.unit


def test_the_sample_answer_has_the_shape() -> None:
    assert book.shape_problems(ANSWER) == []


def test_twelve_questions_numbered_one_to_twelve() -> None:
    assert [q.number for q in QUESTIONS] == list(range(1, 13))


def test_a_missing_section_is_reported() -> None:
    text = ANSWER.replace("## Trade-offs\n\nCardinality costs memory.\n\n", "")
    assert book.shape_problems(text) == ["missing section '## Trade-offs'"]


def test_sections_out_of_order_are_reported() -> None:
    text = ANSWER.replace("## Trade-offs", "## Placeholder").replace("## Common mistakes", "## Trade-offs")
    text = text.replace("## Placeholder", "## Common mistakes")
    assert any("out of order" in p for p in book.shape_problems(text))


def test_a_deep_dive_without_mermaid_is_reported() -> None:
    text = ANSWER.replace("```mermaid", "```text")
    assert book.shape_problems(text) == ["section '## Deep dive' has no ```mermaid diagram"]


def test_follow_ups_need_a_question_heading_with_an_answer() -> None:
    no_question = ANSWER.replace("### Why histograms and not summaries?\n\n", "")
    assert book.shape_problems(no_question) == ["section '## Follow-up questions' has no '### question'"]
    no_answer = ANSWER.replace("Histograms aggregate across instances.\n", "")
    assert book.shape_problems(no_answer) == [
        "follow-up '### Why histograms and not summaries?' has no answer"
    ]


def test_an_empty_section_and_a_duplicate_section_are_reported() -> None:
    text = ANSWER.replace("Logging secrets.\n", "") + "\n## Trade-offs\n\nAgain.\n"
    problems = book.shape_problems(text)
    assert "section '## Common mistakes' (line 29) is empty" in problems
    assert "section '## Trade-offs' appears 2 times" in problems


def test_headings_inside_code_blocks_do_not_count() -> None:
    text = ANSWER.replace("```bash\nanswers demo 8\n```", "```bash\n## Trade-offs\n```")
    assert book.shape_problems(text) == []


def test_discovery_maps_numbers_and_flags_strays_and_duplicates(tmp_path: Path) -> None:
    for name in ("q08-logging.md", "q08-again.md", "q13-extra.md", "notes.md"):
        (tmp_path / name).write_text(ANSWER, encoding="utf-8")
    assert book.discover(tmp_path) == {8: tmp_path / "q08-again.md", 13: tmp_path / "q13-extra.md"}
    assert book.layout_problems(tmp_path) == [
        "q08-logging.md: question 8 already has q08-again.md",
        "q13-extra.md: there is no question 13 (questions are 1 to 12)",
    ]


def test_check_book_passes_a_good_book_and_catches_a_stale_value_and_a_missing_key(tmp_path: Path) -> None:
    """The same check the real-repo test runs fails on a temp copy with a stale value or a missing key."""
    answers_dir, results_dir = write_book(tmp_path)
    assert book.check_book(answers_dir, results_dir) == []

    stale = json.loads(json.dumps(RESULTS))
    stale["latency"]["p99_ms"] = 13.75
    (results_dir / "obs.json").write_text(json.dumps(stale), encoding="utf-8")
    assert book.check_book(answers_dir, results_dir) == [
        "q08-sample.md: line 6: stale figure 'obs.latency.p99_ms': quoted '12.5', results say '13.8'"
    ]

    del stale["latency"]
    (results_dir / "obs.json").write_text(json.dumps(stale), encoding="utf-8")
    (problem,) = book.check_book(answers_dir, results_dir)
    assert problem.startswith("q08-sample.md: line 6: figure key 'obs.latency.p99_ms': obs has no 'latency'")


def test_check_book_catches_a_corrupted_value_in_a_copy_of_each_real_answer(tmp_path: Path) -> None:
    """For the sample and every real answer that quotes a figure, a temp copy with one value changed fails."""
    sample_answers, sample_results = write_book(tmp_path / "sample")
    real = [(path, book.ANSWERS_DIR.parent / "results") for path in book.discover().values()]
    cases = [(sample_answers / "q08-sample.md", sample_results), *real]
    for path, results_dir in cases:
        text = path.read_text(encoding="utf-8")
        refs = figures.parse_refs(text)
        if not refs:
            continue
        copy_dir = tmp_path / "copies" / path.stem
        copy_dir.mkdir(parents=True)
        ref = refs[0]
        (copy_dir / path.name).write_text(text[: ref.start] + "-1.5e99" + text[ref.end :], encoding="utf-8")
        problems = book.check_book(copy_dir, results_dir)
        assert any(f"{path.name}: line {ref.line}: " in p and ref.key in p for p in problems), problems
