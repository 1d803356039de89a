"""The answer book: find ``answers/qNN-*.md`` and check each has the shape DESIGN.md asks of an answer.

Every answer has the same seven ``##`` sections in the same order, so a reader (and an interviewer) always
knows where the short answer, the diagram, the numbers and the follow-ups are. :func:`check_book` is what the
tests and ``answers sync --check`` run: the shape of every answer plus every figure reference against
``results/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from answers import figures
from answers.questions import NUMBERS, question

ANSWERS_DIR = Path(__file__).resolve().parent
ANSWER_GLOB = "q[0-9][0-9]-*.md"
REQUIRED_SECTIONS = (
    "The 60-second answer",
    "Deep dive",
    "Trade-offs",
    "The numbers",
    "Common mistakes",
    "Follow-up questions",
    "Run it yourself",
)
_HEADING_RE = re.compile(r"^ {0,3}(?P<hashes>#{1,6})[ \t]+(?P<title>.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MERMAID_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*mermaid\b", re.MULTILINE)


@dataclass(frozen=True)
class Heading:
    level: int
    title: str
    line: int


@dataclass(frozen=True)
class Section:
    """A heading and the text under it, up to the next heading of the same or a higher level."""

    heading: Heading
    body: str


def answer_number(path: Path) -> int:
    return int(path.name[1:3])


def answer_files(answers_dir: Path = ANSWERS_DIR) -> list[Path]:
    return sorted(answers_dir.glob(ANSWER_GLOB))


def discover(answers_dir: Path = ANSWERS_DIR) -> dict[int, Path]:
    """Question number -> its answer file (the first by name if, wrongly, there are two)."""
    found: dict[int, Path] = {}
    for path in answer_files(answers_dir):
        found.setdefault(answer_number(path), path)
    return found


def layout_problems(answers_dir: Path = ANSWERS_DIR) -> list[str]:
    """Answer files whose number is not a question, or two files for one question."""
    problems = []
    seen: dict[int, Path] = {}
    for path in answer_files(answers_dir):
        number = answer_number(path)
        if number not in NUMBERS:
            problems.append(f"{path.name}: there is no question {number} (questions are 1 to {len(NUMBERS)})")
        elif number in seen:
            problems.append(f"{path.name}: question {number} already has {seen[number].name}")
        else:
            seen[number] = path
    return problems


def _lines_outside_code(text: str) -> list[tuple[int, str]]:
    """(line number, line) for each line outside fenced code (a ``# comment`` in code is no heading)."""
    out = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE_RE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * 3
        elif fence is not None and line.lstrip().startswith(fence):
            fence = None
        elif fence is None:
            out.append((number, line))
    return out


def headings(text: str) -> list[Heading]:
    found = []
    for number, line in _lines_outside_code(text):
        match = _HEADING_RE.match(line)
        if match:
            found.append(Heading(len(match.group("hashes")), match.group("title").strip(), number))
    return found


def sections(text: str, level: int) -> list[Section]:
    """The sections at ``level``; each body ends where a heading of this level or higher begins."""
    lines = text.splitlines()
    marks = headings(text)
    result = []
    for i, heading in enumerate(marks):
        if heading.level != level:
            continue
        end = next((h.line for h in marks[i + 1 :] if h.level <= level), len(lines) + 1)
        result.append(Section(heading, "\n".join(lines[heading.line : end - 1])))
    return result


def title_of(text: str, number: int) -> str:
    """The answer's ``# title``, else the question it answers."""
    top = next((h.title for h in headings(text) if h.level == 1), None)
    return top or question(number).title


def _normal(title: str) -> str:
    return " ".join(title.lower().split())


def shape_problems(text: str) -> list[str]:
    """What keeps this Markdown from having the shape of an answer; empty when it has it."""
    found = {_normal(s.heading.title): s for s in reversed(sections(text, 2))}  # first occurrence wins
    titles = [_normal(s.heading.title) for s in sections(text, 2)]
    problems = []
    for required in REQUIRED_SECTIONS:
        count = titles.count(_normal(required))
        if count == 0:
            problems.append(f"missing section '## {required}'")
        elif count > 1:
            problems.append(f"section '## {required}' appears {count} times")
    present = [t for t in titles if t in {_normal(r) for r in REQUIRED_SECTIONS}]
    expected = [_normal(r) for r in REQUIRED_SECTIONS if _normal(r) in present]
    ordered = list(dict.fromkeys(present))
    if ordered != expected:
        problems.append(
            "sections are out of order: expected " + ", ".join(f"'## {r}'" for r in REQUIRED_SECTIONS)
        )
    for required in REQUIRED_SECTIONS:
        section = found.get(_normal(required))
        if section is not None and not section.body.strip():
            problems.append(f"section '## {required}' (line {section.heading.line}) is empty")
    deep_dive = found.get(_normal("Deep dive"))
    if deep_dive is not None and not _MERMAID_RE.search(deep_dive.body):
        problems.append("section '## Deep dive' has no ```mermaid diagram")
    follow_ups = found.get(_normal("Follow-up questions"))
    if follow_ups is not None:
        problems += _follow_up_problems(follow_ups.body)
    return problems


def _follow_up_problems(body: str) -> list[str]:
    questions = sections(body, 3)
    if not questions:
        return ["section '## Follow-up questions' has no '### question'"]
    return [f"follow-up '### {q.heading.title}' has no answer" for q in questions if not q.body.strip()]


def check_answer(path: Path, results_dir: Path | figures.ResultsStore) -> list[str]:
    """Shape problems and figure problems of one answer file, each prefixed with the file name."""
    text = path.read_text(encoding="utf-8")
    problems = [f"{path.name}: {p}" for p in shape_problems(text)]
    problems += [f"{path.name}: {p}" for p in figures.check(text, results_dir)]
    return problems


def check_book(answers_dir: Path, results_dir: Path) -> list[str]:
    """Everything wrong with the answers in ``answers_dir`` measured against ``results_dir``."""
    store = figures.ResultsStore(results_dir)
    problems = layout_problems(answers_dir)
    for path in discover(answers_dir).values():
        problems += check_answer(path, store)
    return problems
