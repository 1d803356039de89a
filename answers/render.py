"""Answers as HTML: Markdown through markdown-it-py (CommonMark + tables), wrapped in one small page template.

Raw HTML in the Markdown is not passed through (only our figure comments would use it, and they are stripped:
the reader sees the bold value). Mermaid blocks become ``<pre class="mermaid">`` holding the diagram's source,
readable as is; a later step vendors Mermaid's script to draw them, never from a CDN. No web fonts, no
scripts.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from answers import figures
from answers.questions import QUESTIONS, Question

CSS = """
:root { color-scheme: light dark; --fg: #1d2129; --muted: #5f6b7a; --bg: #ffffff; --line: #d9dee5;
        --code: #f4f6f8; --accent: #0b6e4f; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e8eb; --muted: #9aa4b1; --bg: #15181c; --line: #2c323a; --code: #1e2227;
          --accent: #4cc38a; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.6;
       font: 17px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 46rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
a { color: var(--accent); }
nav { font-size: .9rem; color: var(--muted); margin-bottom: 1.5rem; }
h1 { font-size: 1.8rem; line-height: 1.25; }
h2 { margin-top: 2.5rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
code { background: var(--code); padding: .1em .3em; border-radius: 4px; }
pre { background: var(--code); padding: 1rem; border-radius: 6px; overflow-x: auto; }
pre code { background: none; padding: 0; }
pre.mermaid { border-left: 4px solid var(--accent); }
pre.mermaid::before { content: "diagram (Mermaid source)"; display: block; color: var(--muted);
                      font-size: .8rem; margin-bottom: .5rem; }
table { border-collapse: collapse; margin: 1rem 0; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: .35rem .7rem; text-align: left; }
th { background: var(--code); }
img { max-width: 100%; }
ol.questions { padding-left: 1.5rem; }
ol.questions li { margin: .8rem 0; }
.muted { color: var(--muted); font-size: .9rem; }
"""


def _fence(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    if token.info.strip().split(maxsplit=1)[:1] == ["mermaid"]:
        return f'<pre class="mermaid">{escape(token.content)}</pre>\n'
    return str(renderer.fence(tokens, idx, options, env))


def markdown_to_html(text: str) -> str:
    """The body of an answer page."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("fence", _fence)
    return str(md.render(figures.FIGURE_RE.sub(lambda m: f"**{m.group('value')}**", text)))


def page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>\n"
        f'<body><main>\n<nav><a href="/">The twelve answers</a></nav>\n{body}\n</main></body></html>\n'
    )


def index_page(answered: dict[int, str]) -> str:
    """The twelve questions; ``answered`` maps a question number to its answer's URL."""
    items = []
    for q in QUESTIONS:
        url = answered.get(q.number)
        title = f'<a href="{escape(url)}">{escape(q.title)}</a>' if url else escape(q.title)
        status = "" if url else " <em>(answer coming)</em>"
        items.append(
            f'<li value="{q.number}">{title}{status}<br>'
            f'<span class="muted">They look for: {escape(q.looks_for)}. '
            f"Proven in {escape(q.proven_in)}.</span></li>"
        )
    body = (
        "<h1>Backend interview: twelve model answers</h1>\n"
        "<p>Each answer cites numbers measured on the code in this repository; "
        "<code>answers demo N</code> runs a small live version.</p>\n"
        f'<ol class="questions">\n{"".join(items)}\n</ol>'
    )
    return page("Backend interview answers", body)


def answer_page(question: Question, markdown: str) -> str:
    header = f'<p class="muted">Question {question.number}: they look for {escape(question.looks_for)}.</p>\n'
    return page(f"Q{question.number}: {question.title}", header + markdown_to_html(markdown))
