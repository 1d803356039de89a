"""The benchmark's figures as a rich table: stores side by side, and (for the demo) live beside committed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

MIN_WIDTH = 140
STORES = ("postgres", "redis", "redis_naive")
METRICS = (
    ("writes_per_s", "writes/s (one acknowledged play each)"),
    ("recent_plays_p50_ms", "last 50 plays p50 ms"),
    ("recent_plays_p99_ms", "last 50 plays p99 ms"),
    ("analytics_ms.top_tracks_week_country", "top tracks week+country ms"),
    ("analytics_ms.users_played_both", "users who played both ms"),
    ("bytes_per_million_plays", "bytes per million plays"),
    ("invariant_violations", "follower invariant violations"),
    ("lost_after_kill9_default", "acked writes lost to kill -9 (stock RDB)"),
    ("lost_after_kill9_aof_everysec", "acked writes lost to kill -9 (AOF everysec)"),
)


def wide_console() -> Console:
    """Wide enough for the table even when stdout is a pipe (rich then assumes 80 columns)."""
    return Console(width=max(MIN_WIDTH, Console().width))


def lookup(data: Mapping[str, Any], store: str, path: str) -> object:
    node: Any = data.get(store, {})
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def results_table(data: Mapping[str, Any], title: str) -> Table:
    table = Table(title=title)
    table.add_column("figure", style="bold")
    for store in STORES:
        table.add_column(store, justify="right")
    for path, label in METRICS:
        table.add_row(label, *(cell(lookup(data, store, path)) for store in STORES))
    return table


def comparison_table(live: Mapping[str, Any], committed: Mapping[str, Any], title: str) -> Table:
    """The small live run beside the committed full-size figures, store by store."""
    table = Table(title=title)
    table.add_column("figure", style="bold")
    for store in STORES:
        table.add_column(f"{store}\nlive / committed", justify="right")
    for path, label in METRICS:
        cells = []
        for store in STORES:
            mine, theirs = lookup(live, store, path), lookup(committed, store, path)
            cells.append("-" if mine is None and theirs is None else f"{cell(mine)} / {cell(theirs)}")
        table.add_row(label, *cells)
    return table
