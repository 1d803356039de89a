"""The site's pages as Markdown: the generated index and each answer adapted for MkDocs. Pure text to text.

The answers are written to read well on a code host and in the terminal, so the site build changes only what
a static site needs: a quoted figure ``**VALUE** <!-- fig: key -->`` becomes ``**VALUE**{ .fig title=... }``
(the key shows on hover, a ``?`` not measured yet is marked); a chart ``![...](../results/x.png)`` keeps its
link (the build lays out ``answers/`` and ``results/`` as in the repository) or, when its benchmark has not
run, becomes a sentence saying so; a link to a repository file outside the book (``../ratelimit/lua.py``)
becomes that path in code, since the site holds no source files. Fenced and inline code are left untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path, PurePosixPath

from answers import book, figures
from answers.questions import QUESTIONS, question

# Short labels for the navigation; the full question is each page's title.
SHORT_TITLES: dict[int, str] = {
    1: "Music recommendations",
    2: "Live database migrations",
    3: "SQL vs NoSQL",
    4: "API performance",
    5: "Securing a backend",
    6: "Traffic spikes",
    7: "The CAP theorem",
    8: "Logging and monitoring",
    9: "Microservices",
    10: "Testing",
    11: "A challenging bug",
    12: "Tools and technologies",
}

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE_RE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)")
_PLACEHOLDER_RE = re.compile("\x00(\\d+)\x00")
# [text](target "title") and ![alt](target); the text may wrap onto a second line
_LINK_RE = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]\n]*(?:\n[^\]\n]*)?)\]\((?P<target>[^()\s]+)(?P<title>\s+\"[^\"\n]*\")?\)"
)
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PATH_RE = re.compile(r"[\w.-]+/|[\w-]+\.(?:toml|ya?ml|py|md)\b")


@dataclass
class PageContext:
    """Where an answer lives and what the built site will hold, to decide what each link becomes."""

    answers_dir: Path
    results_dir: Path
    repo_root: Path
    results_used: set[str] = field(default_factory=set)  # results/ files the page needs copied
    missing_charts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


Unmask = Callable[[str], str]


def _prose_blocks(text: str, transform: Callable[[str, Unmask], str]) -> str:
    """Apply ``transform`` to each run of lines outside fenced code, with inline code spans masked.

    ``transform`` gets the masked run and a function that puts the code spans back into a piece of it.
    """
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if prose:
            out.append(_masked("".join(prose), transform))
            prose.clear()

    for line in text.splitlines(keepends=True):
        match = _FENCE_RE.match(line)
        if fence is None and match:
            flush()
            fence = match.group(1)[0] * 3
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.lstrip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
        else:
            prose.append(line)
    flush()
    return "".join(out)


def _masked(text: str, transform: Callable[[str, Unmask], str]) -> str:
    spans: list[str] = []

    def hide(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"\x00{len(spans) - 1}\x00"

    def unmask(piece: str) -> str:
        return _PLACEHOLDER_RE.sub(lambda m: spans[int(m.group(1))], piece)

    return unmask(transform(_INLINE_CODE_RE.sub(hide, text), unmask))


def _figure(match: re.Match[str]) -> str:
    value, key = match.group("value"), match.group("key")
    if value.strip() == "?":
        topic = key.split(".", 1)[0].split("[", 1)[0]
        title = f"not measured yet: results/{topic}.json ({key}); run make bench-{topic}"
        return f'**{value}**{{ .fig .fig--missing title="{escape(title)}" }}'
    return f'**{value}**{{ .fig title="{escape("results: " + key)}" }}'


def _repo_relative(target: PurePosixPath, ctx: PageContext) -> Path | None:
    """The repository path a relative link from ``answers/`` points at, or None if it leaves the repo."""
    resolved = (ctx.answers_dir / target).resolve()
    try:
        resolved.relative_to(ctx.repo_root.resolve())
    except ValueError:
        return None
    return resolved


def _results_link(match: re.Match[str], resolved: Path, ctx: PageContext, name: str) -> str:
    """A chart or file in results/: kept (and copied) when it exists, else said to be coming."""
    if resolved.is_file():
        ctx.results_used.add(resolved.name)
        # eager, not lazy: a page has at most a couple of charts, and a chart far down a long answer must load
        # without the reader (or the browser test) scrolling to it first
        return match.group(0) + ("{ .chart }" if match.group("bang") else "")
    if match.group("bang"):
        ctx.missing_charts.append(f"{name}: results/{resolved.name}")
        return f"*(chart `results/{resolved.name}` not generated yet: its `make bench-…` run writes it)*"
    return f"`results/{resolved.name}`"


def _repo_link(text: str, resolved: Path, path_part: str, ctx: PageContext, unmask: Unmask) -> str:
    """The site holds no source files: name the file so the reader finds it in the repository."""
    relative = resolved.relative_to(ctx.repo_root.resolve()).as_posix() + ("/" if resolved.is_dir() else "")
    if unmask(text).strip().strip("`") in {relative, relative.rstrip("/"), path_part}:
        return f"`{relative}`"
    return f"{text} (`{relative}`)"


def _rewrite_link(match: re.Match[str], ctx: PageContext, unmask: Unmask, name: str) -> str:
    text, target = match.group("text"), match.group("target")
    path_part = target.partition("#")[0]
    if _SCHEME_RE.match(target) or target.startswith(("#", "/")) or not path_part:
        if match.group("bang") and _SCHEME_RE.match(target):
            ctx.problems.append(f"{name}: image {target} is remote; the site must work offline")
        return match.group(0)
    resolved = _repo_relative(PurePosixPath(path_part), ctx)
    if resolved is None:
        ctx.problems.append(f"{name}: link to {target} leaves the repository")
        return match.group(0)
    if resolved.parent == ctx.results_dir.resolve():
        return _results_link(match, resolved, ctx, name)
    if resolved.parent == ctx.answers_dir.resolve() and re.fullmatch(r"q\d\d-.+\.md", resolved.name):
        # another answer: a link once it exists, plain text until then (the index says it is coming)
        return match.group(0) if resolved.is_file() else text
    if resolved.exists():
        return _repo_link(text, resolved, path_part, ctx, unmask)
    ctx.problems.append(f"{name}: link to {target} points to nothing in the repository")
    return match.group(0)


def answer_page(markdown: str, number: int, name: str, ctx: PageContext) -> str:
    """An answer's Markdown made ready for MkDocs (see the module docstring)."""

    def transform(chunk: str, unmask: Unmask) -> str:
        chunk = figures.FIGURE_RE.sub(_figure, chunk)
        return _LINK_RE.sub(lambda m: _rewrite_link(m, ctx, unmask, name), chunk)

    text = _prose_blocks(markdown, transform)
    q = question(number)
    lead = (
        f'<p class="q-lookfor" markdown>Question {q.number} of {len(QUESTIONS)}. '
        f"What they look for: {escape(q.looks_for)}. Proven in {_code_paths(q.proven_in)}.</p>\n"
    )
    lines = text.splitlines(keepends=True)
    top = next((h for h in book.headings(text) if h.level == 1), None)
    if top is None:
        return f"# {q.title}\n\n{lead}\n{text}"
    lines.insert(top.line, "\n" + lead)
    return "".join(lines)


def page_path(answer: Path) -> str:
    """Where an answer sits in the docs folder: ``answers/``, as in the repository, so relative links hold."""
    return f"answers/{answer.name}"


def nav(answered: Mapping[int, Path]) -> list[object]:
    """MkDocs ``nav``: the index, then the answered questions in order under short labels."""
    entries: list[object] = [{f"{n} · {SHORT_TITLES[n]}": page_path(answered[n])} for n in sorted(answered)]
    return [{"The twelve questions": "index.md"}, {"Answers": entries}]


def _code_paths(text: str) -> str:
    """``a real race (ratelimit/)`` -> ``a real race (`ratelimit/`)``: paths in code, prose as prose."""
    return _PATH_RE.sub(lambda m: f"`{m.group(0)}`", escape(text))


def index_page(answered: Mapping[int, Path], figure_counts: Mapping[int, int]) -> str:
    """The home page: the twelve questions as cards, linked when answered."""
    cards = []
    for q in QUESTIONS:
        path = answered.get(q.number)
        if path is None:
            title = f'{escape(q.title)} <span class="q-pending">(answer coming)</span>'
        else:
            title = f"[{q.title}]({page_path(path)})"
        meta = [f"Proven in {_code_paths(q.proven_in)}"]
        if path is not None:
            meta.append(f"{figure_counts.get(q.number, 0)} measured figures")
        cards.append(
            f'-   <span class="q-number">{q.number}</span> {title}\n\n'
            "    ---\n\n"
            f"    They look for: {escape(q.looks_for)}.\n\n"
            f'    <span class="q-meta">{" · ".join(meta)}</span>\n'
        )
    count = len(answered)
    return (
        "---\nhide:\n  - toc\n---\n\n"
        "# Backend interview: twelve model answers\n\n"
        "Twelve questions a backend engineer is asked at a music-streaming company, each answered the way an "
        "interviewer scores it, and each claim backed by code in this repository and a number measured on "
        "it. "
        "Hover a highlighted figure to see the results key it is quoted from.\n\n"
        f"**{count} of {len(QUESTIONS)}** answered so far.\n\n"
        '<div class="grid cards" markdown>\n\n' + "\n".join(cards) + "\n</div>\n\n"
        "## Use the book\n\n"
        "| command | what it does |\n|---|---|\n"
        "| `make demo` | starts the services and this site on loopback and prints their URLs |\n"
        "| `answers show N` | reads answer N in the terminal |\n"
        "| `answers quiz [N]` | asks the follow-up questions; Enter reveals the model answer |\n"
        "| `answers quiz --export deck.csv` | writes the follow-ups as an Anki-importable deck |\n"
        "| `answers demo N` | runs a small live version of question N's experiment |\n"
        "| `make bench-<topic>` | re-measures every figure a topic's answer quotes |\n"
    )
