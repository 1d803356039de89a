"""The ``answers`` command: list, read, sync and demo the twelve model answers, migrate, and serve the site.

Every failure a user can cause (a bad question number, a missing answer, an unreachable database, a demo that
cannot be imported) prints one line on stderr and exits 2; ``sync --check`` exits 1 when a figure is stale or
missing, like a linter. Set ``ANSWERS_DEBUG=1`` to see a failing demo's traceback.
"""

from __future__ import annotations

import importlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from answers import book, demos, figures, migrate
from answers import quiz as quiz_module
from answers.questions import NUMBERS, QUESTIONS, question
from observability.results import RESULTS_DIR

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"

app = typer.Typer(
    name="answers",
    help="Runnable model answers to twelve backend interview questions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass(frozen=True)
class Paths:
    answers_dir: Path
    results_dir: Path


def fail(message: str) -> NoReturn:
    """One readable line on stderr, exit code 2: the contract for every error this CLI reports."""
    line = " ".join(message.split())
    Console(stderr=True, soft_wrap=True).print(Text.assemble(("error: ", "bold red"), line))
    raise typer.Exit(2)


def _console() -> Console:
    return Console(soft_wrap=True)


def _checked_number(number: int) -> int:
    if number not in NUMBERS:
        fail(f"there is no question {number}; questions are numbered 1 to {len(QUESTIONS)}")
    return number


@app.callback()
def main(
    ctx: typer.Context,
    answers_dir: Annotated[
        Path, typer.Option(envvar="ANSWERS_DIR", help="Where the qNN-*.md answers live.")
    ] = book.ANSWERS_DIR,
    results_dir: Annotated[
        Path, typer.Option(envvar="ANSWERS_RESULTS_DIR", help="Where the measured results/*.json live.")
    ] = RESULTS_DIR,
) -> None:
    ctx.obj = Paths(answers_dir, results_dir)


@app.command("list")
def list_answers(ctx: typer.Context) -> None:
    """The twelve questions: which have an answer, a live demo, and how many measured figures they quote."""
    paths: Paths = ctx.obj
    found = book.discover(paths.answers_dir)
    table = Table(title="The twelve questions", title_justify="left")
    for name, justify in (("#", "right"), ("question", "left"), ("answer", "left"), ("demo", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("figures", justify="right")
    for q in QUESTIONS:
        path = found.get(q.number)
        figure_count = len(figures.parse_refs(path.read_text(encoding="utf-8"))) if path else None
        table.add_row(
            str(q.number),
            q.title,
            path.name if path else "[dim]not yet[/]",
            "yes" if q.number in demos.DEMOS else "[dim]no[/]",
            "" if figure_count is None else str(figure_count),
        )
    _console().print(table)
    _console().print(f"{len(found)} of {len(QUESTIONS)} answered, {len(demos.DEMOS)} with a live demo")


@app.command()
def show(
    ctx: typer.Context, number: Annotated[int, typer.Argument(help="Question number, 1 to 12.")]
) -> None:
    """Render one answer in the terminal."""
    paths: Paths = ctx.obj
    q = question(_checked_number(number))
    path = book.discover(paths.answers_dir).get(number)
    if path is None:
        fail(f"question {number} has no answer yet (expected {paths.answers_dir}/q{number:02d}-*.md)")
    # the figure comments are for tools; the reader sees only the bold value
    text = figures.FIGURE_RE.sub(lambda m: f"**{m.group('value')}**", path.read_text(encoding="utf-8"))
    console = Console()  # wraps paragraphs to the terminal width
    console.print(Rule(f"Q{q.number}: {q.title}"))
    console.print(Text(f"What they look for: {q.looks_for}", style="dim"))
    console.print(Markdown(text))


@app.command()
def sync(
    ctx: typer.Context,
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a figure is stale.")
    ] = False,
) -> None:
    """Rewrite the quoted figures of every answer from results/ (or, with --check, list what is stale)."""
    paths: Paths = ctx.obj
    store = figures.ResultsStore(paths.results_dir)
    console = _console()
    problems: list[str] = []
    changed = 0
    for path in book.discover(paths.answers_dir).values():
        text = path.read_text(encoding="utf-8")
        if not check:
            text, changes = figures.sync(text, store)
            if changes:
                path.write_text(text, encoding="utf-8")
            for change in changes:
                console.print(
                    f"{path.name}:{change.line} {change.key}: {change.old} -> {change.new}", markup=False
                )
            changed += len(changes)
        problems += [f"{path.name}:{p.line} {p.message}" for p in figures.check(text, store)]
    for problem in problems:
        console.print(problem, markup=False, highlight=False)
    if problems:
        console.print(f"{len(problems)} figure(s) stale or unresolved", style="bold red")
        raise typer.Exit(1)
    console.print("every figure matches results/" if check else f"{changed} figure(s) updated; all in sync")


@app.command()
def demo(number: Annotated[int, typer.Argument(help="Question number, 1 to 12.")]) -> None:
    """Run a small live version of a question's demo and print it beside the committed figures."""
    target = demos.DEMOS.get(_checked_number(number))
    if target is None:
        registered = ", ".join(str(n) for n in sorted(demos.DEMOS)) or "none"
        fail(f"question {number} has no demo yet (questions with a demo: {registered})")
    module_name, _, function_name = target.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        fail(f"the demo for question {number} ({target}) cannot be loaded: {exc}")
    try:
        code = function()
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if os.environ.get("ANSWERS_DEBUG"):
            raise
        fail(
            f"the demo for question {number} failed: {type(exc).__name__}: {exc} (ANSWERS_DEBUG=1 shows more)"
        )
    if isinstance(code, int) and code:
        raise typer.Exit(code)


@app.command()
def quiz(
    ctx: typer.Context,
    number: Annotated[
        int | None,
        typer.Argument(help="Only this question's follow-ups (1 to 12); all answered ones if omitted."),
    ] = None,
    shuffle: Annotated[bool, typer.Option("--shuffle", help="Ask in random order.")] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Shuffle repeatably with this seed (implies --shuffle).")
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="Write the cards as an Anki-importable CSV deck instead of asking."),
    ] = None,
) -> None:
    """Ask the follow-up questions; Enter reveals the model answer, q quits. Or export them for Anki."""
    paths: Paths = ctx.obj
    try:
        cards = quiz_module.ordered(quiz_module.collect(paths.answers_dir, number), shuffle, seed)
    except quiz_module.QuizError as exc:
        fail(str(exc))
    console = _console()
    if export is not None:
        try:
            count = quiz_module.export_csv(cards, export)
        except OSError as exc:
            fail(f"cannot write {export}: {exc.strerror or exc}")
        console.print(f"wrote {count} cards to {export} (Anki: File > Import; the file says how to read it)")
        return
    quiz_module.run(cards, lambda prompt: console.input(Text(prompt, style="dim")), console)


@app.command("migrate")
def migrate_command(
    database_url: Annotated[str, typer.Option(envvar="DATABASE_URL", help="PostgreSQL to migrate.")] = (
        DEFAULT_DATABASE_URL
    ),
    schema_prefix: Annotated[
        str | None,
        typer.Option(envvar="MIGRATE_SCHEMA_PREFIX", help="Put package P in schema <prefix><P> (tests)."),
    ] = None,
) -> None:
    """Apply `alembic upgrade head` for every package registered in answers/migrate.py."""
    packages = migrate.MIGRATING_PACKAGES
    if not packages:
        _console().print(
            "nothing to migrate: no package is registered in answers/migrate.py MIGRATING_PACKAGES"
        )
        return
    for package in packages:
        schema = migrate.schema_for(package, schema_prefix) if schema_prefix else None
        where = f"schema {schema}" if schema else "its own schema"
        try:
            migrate.upgrade(package, database_url, schema)
        except migrate.MigrationError as exc:
            fail(str(exc))
        _console().print(f"migrated {package} to head ({where})", markup=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the answers site (the Markdown rendered as HTML, with the charts)."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror}; choose another with --port")
    _console().print(f"answers site on http://{host}:{port}/")
    uvicorn.run("answers.site:create_app", factory=True, host=host, port=port)
