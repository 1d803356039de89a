"""results/migrations.png: request latency over time, naive vs safe, the migration window shaded.

One row per migration. Time is relative to the start of each run's migration, so the two modes line up; each
line is the slowest request started in each 100 ms bin (the tail is what users feel), on a log scale from
1 ms to the 5 s request timeout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt

from migrations_demo.load import Record

BIN_S = 0.1
COLOURS = {"naive": "#d62728", "safe": "#1f77b4"}


def binned_max(
    records: Sequence[Record], origin_s: float, bin_s: float = BIN_S
) -> tuple[list[float], list[float]]:
    """(bin start relative to ``origin_s``, slowest latency in that bin), bins in time order."""
    slowest: dict[int, float] = {}
    for r in records:
        b = int((r.start_s - origin_s) // bin_s)
        slowest[b] = max(slowest.get(b, 0.0), r.latency_ms)
    keys = sorted(slowest)
    return [k * bin_s for k in keys], [slowest[k] for k in keys]


def plot(
    series: Mapping[str, Mapping[str, tuple[Sequence[Record], tuple[float, float]]]],
    path: Path,
    *,
    before_s: float = 5.0,
    timeout_ms: float = 5000.0,
) -> Path:
    """``series[migration][mode] = (records, (window_start_s, window_end_s))`` of one representative run."""
    names = list(series)
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.2 * len(names) + 0.6), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        right = 1.0
        for mode, (records, (start, end)) in sorted(series[name].items()):
            shown = [r for r in records if r.start_s >= start - before_s]
            xs, ys = binned_max(shown, start)
            ax.plot(xs, ys, color=COLOURS.get(mode, "grey"), linewidth=0.9, label=f"{mode}")
            ax.axvspan(0, max(end - start, 0.05), color=COLOURS.get(mode, "grey"), alpha=0.12)
            right = max(right, xs[-1] if xs else 0.0)
        ax.set_yscale("log")
        ax.set_ylim(1, timeout_ms * 1.5)
        ax.set_xlim(-before_s, right)
        ax.axhline(timeout_ms, color="black", linewidth=0.6, linestyle=":")
        ax.set_title(name, loc="left", fontsize=10)
        ax.set_ylabel("max latency (ms)")
        ax.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("seconds since the migration started (shaded: migration window)")
    fig.suptitle("Latency seen by clients during each migration: naive vs safe")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
