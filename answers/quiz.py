"""``answers quiz``: every answer's follow-up questions as flash cards, in the terminal or as an Anki deck.

Each ``### question`` under an answer's ``## Follow-up questions`` is one card; the text under it is the model
answer. In the terminal the question is shown, Enter reveals the answer, and ``q`` (or Ctrl-D / Ctrl-C) stops
cleanly. The export is a CSV deck with Anki's file headers (Anki 2.1.55+: separator, HTML, column names, the
tags column; docs.ankiweb.net, "Importing text files"), so it imports as Basic notes with Front, Back and
Tags. Input and output are injected, so the whole loop runs in tests without a terminal.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt
from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule
from rich.text import Text

from answers import book, figures
from answers.pages import SHORT_TITLES
from answers.questions import NUMBERS, QUESTIONS

QUIT_WORDS = frozenset({"q", "quit", "exit"})
DECK_NAME = "Backend interview answers"


class QuizError(Exception):
    """No cards to ask: a bad question number, a question without an answer, or no follow-ups."""


@dataclass(frozen=True)
class Card:
    number: int  # the question whose answer holds this follow-up
    position: int  # 1-based, within that answer's follow-ups
    question: str
    answer: str  # Markdown, figure comments stripped

    @property
    def topic(self) -> str:
        return f"Q{self.number} · {SHORT_TITLES[self.number]}"

    @property
    def tags(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", SHORT_TITLES[self.number].lower()).strip("-")
        return f"backend-answers q{self.number:02d} {slug}"


@dataclass(frozen=True)
class Outcome:
    revealed: int
    total: int
    quit_early: bool


def plain_figures(markdown: str) -> str:
    """``**12.5** <!-- fig: key -->`` -> ``**12.5**``: the reader sees the value, not the key."""
    return figures.FIGURE_RE.sub(lambda m: f"**{m.group('value')}**", markdown)


def cards_of(text: str, number: int) -> list[Card]:
    """The follow-ups of one answer that have an answer (an empty one is a shape error, caught elsewhere)."""
    follow_ups = next(
        (
            s
            for s in book.sections(text, 2)
            if " ".join(s.heading.title.lower().split()) == "follow-up questions"
        ),
        None,
    )
    if follow_ups is None:
        return []
    found = [(s.heading.title, s.body.strip()) for s in book.sections(follow_ups.body, 3)]
    return [
        Card(number, position, title, plain_figures(body))
        for position, (title, body) in enumerate(found, start=1)
        if body
    ]


def collect(answers_dir: Path, number: int | None = None) -> list[Card]:
    """Every answered question's cards in order, or one question's; QuizError says why there are none."""
    answered = book.discover(answers_dir)
    if number is not None:
        if number not in NUMBERS:
            raise QuizError(f"there is no question {number}; questions are numbered 1 to {len(QUESTIONS)}")
        if number not in answered:
            have = ", ".join(str(n) for n in sorted(answered)) or "none yet"
            raise QuizError(
                f"question {number} has no answer yet (expected {answers_dir}/q{number:02d}-*.md); "
                f"answered: {have}"
            )
        cards = cards_of(answered[number].read_text(encoding="utf-8"), number)
        if not cards:
            raise QuizError(
                f"the answer to question {number} ({answered[number].name}) has no follow-up questions"
            )
        return cards
    cards = [c for n, path in sorted(answered.items()) for c in cards_of(path.read_text(encoding="utf-8"), n)]
    if not cards:
        raise QuizError(f"no follow-up questions found: no answer in {answers_dir} has any yet")
    return cards


def ordered(cards: Sequence[Card], shuffle: bool, seed: int | None) -> list[Card]:
    """Question order, or shuffled; a seed makes the shuffle repeatable (and implies it)."""
    out = list(cards)
    if shuffle or seed is not None:
        random.Random(seed).shuffle(out)
    return out


def _wants_to_quit(ask: Callable[[str], str], prompt: str) -> bool:
    try:
        return ask(prompt).strip().lower() in QUIT_WORDS
    except (EOFError, KeyboardInterrupt):
        return True


def run(cards: Sequence[Card], ask: Callable[[str], str], console: Console) -> Outcome:
    """Ask each card; Enter reveals the model answer, ``q`` / end of input / Ctrl-C stops."""
    revealed = 0
    for i, card in enumerate(cards, start=1):
        console.print(Rule(f"{i} of {len(cards)} · {card.topic}", align="left", style="dim"))
        console.print(Markdown(f"**{card.question}**"))
        if _wants_to_quit(ask, "Enter reveals the answer, q quits: "):
            break
        console.print(Markdown(card.answer))
        revealed += 1
        if i < len(cards) and _wants_to_quit(ask, "Enter for the next question, q quits: "):
            break
    quit_early = revealed < len(cards)
    console.print(
        Text(
            f"{'Stopped' if quit_early else 'Done'}: {revealed} of {len(cards)} answers revealed.",
            style="dim",
        )
    )
    return Outcome(revealed, len(cards), quit_early)


def _html(markdown: str) -> str:
    return str(MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)).strip()


def export_csv(cards: Sequence[Card], path: Path) -> int:
    """Write an Anki-importable CSV deck (Front, Back, Tags; HTML fields); returns the number of cards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as stream:
        # Anki reads these header lines and then imports without asking how the file is laid out
        stream.write(
            "#separator:Comma\n#html:true\n#notetype:Basic\n"
            f"#deck:{DECK_NAME}\n#columns:Front,Back,Tags\n#tags column:3\n"
        )
        writer = csv.writer(stream, lineterminator="\n")
        for card in cards:
            front = f"{_html(card.question)}\n<p><small>{card.topic}</small></p>"
            writer.writerow([front, _html(card.answer), card.tags])
    return len(cards)
