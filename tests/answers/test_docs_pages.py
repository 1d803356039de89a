"""answers.pages: each answer adapted for the site (figures, charts, links), the index and the nav."""

from __future__ import annotations

from pathlib import Path

import pytest

from answers import pages
from answers.questions import QUESTIONS
from tests.answers.docs_samples import png

pytestmark = pytest.mark.unit


@pytest.fixture
def ctx(tmp_path: Path) -> pages.PageContext:
    for folder in ("answers", "results", "pkg"):
        (tmp_path / folder).mkdir()
    (tmp_path / "results" / "chart.png").write_bytes(png(4, 4))
    (tmp_path / "results" / "obs.json").write_text("{}", encoding="utf-8")
    (tmp_path / "pkg" / "code.py").write_text("", encoding="utf-8")
    (tmp_path / "answers" / "q07-cap.md").write_text("# CAP\n", encoding="utf-8")
    return pages.PageContext(tmp_path / "answers", tmp_path / "results", tmp_path)


def adapt(text: str, ctx: pages.PageContext) -> str:
    return pages.answer_page(f"# Title\n\n{text}\n", 8, "q08-x.md", ctx)


def test_a_figure_becomes_a_value_with_its_key_on_hover(ctx: pages.PageContext) -> None:
    out = adapt("p99 is **12.5** <!-- fig: obs.latency.p99_ms --> ms", ctx)
    assert 'p99 is **12.5**{ .fig title="results: obs.latency.p99_ms" } ms' in out
    assert "<!--" not in out


def test_a_figure_not_measured_yet_is_marked_and_names_its_benchmark(ctx: pages.PageContext) -> None:
    out = adapt("lost **?** <!-- fig: replication.runs[mode=a,b=c].lost -->", ctx)
    assert ".fig .fig--missing" in out
    assert "run make bench-replication" in out
    assert "replication.runs[mode=a,b=c].lost" in out


def test_fenced_and_inline_code_are_left_untouched(ctx: pages.PageContext) -> None:
    example = "`**1** <!-- fig: a.b -->` and:\n\n```md\n**2** <!-- fig: a.c -->\n[x](../nowhere.md)\n```"
    out = adapt(example, ctx)
    assert "`**1** <!-- fig: a.b -->`" in out
    assert "**2** <!-- fig: a.c -->\n[x](../nowhere.md)\n" in out
    assert ctx.problems == []


def test_a_chart_in_results_keeps_its_link_and_is_copied(ctx: pages.PageContext) -> None:
    out = adapt("![Latency](../results/chart.png)", ctx)
    assert "![Latency](../results/chart.png){ .chart }" in out
    assert ctx.results_used == {"chart.png"}


def test_a_chart_not_generated_yet_becomes_a_sentence_saying_so(ctx: pages.PageContext) -> None:
    out = adapt("![Latency](../results/later.png)", ctx)
    assert "![" not in out
    assert "chart `results/later.png` not generated yet" in out
    assert ctx.missing_charts == ["q08-x.md: results/later.png"]
    assert ctx.problems == []


def test_a_link_to_a_results_file_is_copied_too(ctx: pages.PageContext) -> None:
    out = adapt("[raw numbers](../results/obs.json)", ctx)
    assert "[raw numbers](../results/obs.json)" in out
    assert "obs.json" in ctx.results_used


def test_links_to_repository_files_become_their_paths_in_code(ctx: pages.PageContext) -> None:
    out = adapt(
        "See [the code](../pkg/code.py), [`pkg/`](../pkg/) and [`pkg/code.py`](../pkg/code.py#L3).", ctx
    )
    assert "See the code (`pkg/code.py`), `pkg/` and `pkg/code.py`." in out


def test_links_to_answers_stay_links_until_then_plain_text(ctx: pages.PageContext) -> None:
    out = adapt("[CAP](q07-cap.md#trade-offs) and [testing](q10-testing.md)", ctx)
    assert "[CAP](q07-cap.md#trade-offs) and testing" in out


def test_a_link_to_nothing_and_a_remote_image_are_problems(ctx: pages.PageContext) -> None:
    adapt("[gone](../pkg/gone.py)\n![badge](https://example.org/b.svg)\n[site](https://example.org)", ctx)
    assert ctx.problems == [
        "q08-x.md: link to ../pkg/gone.py points to nothing in the repository",
        "q08-x.md: image https://example.org/b.svg is remote; the site must work offline",
    ]


def test_the_question_and_what_they_look_for_follow_the_title(ctx: pages.PageContext) -> None:
    out = adapt("## The 60-second answer", ctx)
    lines = out.splitlines()
    assert lines[0] == "# Title"
    assert lines[2].startswith(
        '<p class="q-lookfor" markdown>Question 8 of 12. What they look for: structured'
    )
    assert lines[2].endswith("Proven in `observability/`.</p>")


def test_the_index_lists_all_twelve_and_links_only_the_answered(tmp_path: Path) -> None:
    answered = {7: tmp_path / "q07-cap.md", 2: tmp_path / "q02-mig.md"}
    text = pages.index_page(answered, {7: 45, 2: 3})
    for q in QUESTIONS:
        assert f'<span class="q-number">{q.number}</span>' in text
    assert f"[{QUESTIONS[6].title}](answers/q07-cap.md)" in text
    assert "45 measured figures" in text
    assert text.count("(answer coming)") == 10
    assert "**2 of 12** answered" in text


def test_the_nav_is_the_index_then_the_answers_in_question_order(tmp_path: Path) -> None:
    nav = pages.nav({7: tmp_path / "q07-cap.md", 2: tmp_path / "q02-mig.md"})
    assert nav == [
        {"The twelve questions": "index.md"},
        {
            "Answers": [
                {"2 · Live database migrations": "answers/q02-mig.md"},
                {"7 · The CAP theorem": "answers/q07-cap.md"},
            ]
        },
    ]
