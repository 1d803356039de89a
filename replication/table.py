"""Render experiment figures as a rich table (the CLI, the bench and the demo all print this)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console
from rich.table import Table

MIN_WIDTH = 160


def wide_console() -> Console:
    """A console wide enough for the table even when stdout is a pipe (rich then assumes 80 columns)."""
    return Console(width=max(MIN_WIDTH, Console().width))


COLUMNS = ("attempted", "acknowledged", "confirmed", "lost", "refused", "unknown", "p50_ms", "p99_ms")
COMPARED = ("confirmed", "lost", "refused", "unknown", "p50_ms", "p99_ms")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _notes(figures: Mapping[str, object]) -> str:
    notes = []
    if figures.get("stale_reads") is not None:
        notes.append(f"stale reads {figures['stale_reads']}/{figures.get('reads')}")
        notes.append(f"lag p99 {_cell(figures.get('lag_p99_ms'))} ms")
    if figures.get("cut_p50_ms") is not None:
        notes.append(f"write during cut p50 {_cell(figures['cut_p50_ms'])} ms")
    if figures.get("unknown_survived"):
        notes.append(f"{figures['unknown_survived']} unknown survived")
    return "; ".join(notes)


def results_table(experiments: Mapping[str, Mapping[str, object]], title: str) -> Table:
    table = Table(title=title)
    table.add_column("experiment", style="bold", no_wrap=True)
    table.add_column("trials", justify="right")
    for column in COLUMNS:
        table.add_column(column.replace("_ms", " ms"), justify="right", no_wrap=True)
    table.add_column("notes")
    for name, figures in experiments.items():
        lost_style = "red" if figures.get("lost") else "green"
        cells = [_cell(figures.get(c)) for c in COLUMNS]
        cells[COLUMNS.index("lost")] = f"[{lost_style}]{cells[COLUMNS.index('lost')]}[/]"
        table.add_row(name, _cell(figures.get("n_trials")), *cells, _notes(figures))
    return table


def comparison_table(
    live: Mapping[str, Mapping[str, object]], committed: Mapping[str, Mapping[str, object]], title: str
) -> Table:
    """The small live run beside the committed full-size figures, experiment by experiment."""
    table = Table(title=title)
    table.add_column("experiment", style="bold", no_wrap=True)
    for column in COMPARED:
        table.add_column(f"{column.replace('_ms', ' ms')}\nlive / committed", justify="right", no_wrap=True)
    for name, figures in live.items():
        theirs = committed.get(name, {})
        table.add_row(name, *(f"{_cell(figures.get(c))} / {_cell(theirs.get(c))}" for c in COMPARED))
    return table
