"""``results/catalog.png``: p95 latency and throughput of v1 against v2, per endpoint, on log scales."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot(endpoints: dict[str, dict[str, dict[str, float]]], path: Path, title: str) -> None:
    import matplotlib as mpl  # noqa: PLC0415 - only the bench draws

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    names = list(endpoints)
    x = np.arange(len(names))
    width = 0.38
    fig, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 4.8))
    panels: list[tuple[Any, str, str]] = [
        (latency, "p95_ms", "p95 latency (ms, log)"),
        (throughput, "rps", "requests/s (log)"),
    ]
    for axis, key, label in panels:
        for offset, version, colour in ((-width / 2, "v1", "tab:red"), (width / 2, "v2", "tab:green")):
            values = [endpoints[n][version][key] for n in names]
            bars = axis.bar(x + offset, values, width, label=version, color=colour)
            axis.bar_label(bars, labels=[f"{v:,.1f}" for v in values], fontsize=8, padding=2)
        axis.set_xticks(x, names)
        axis.set_yscale("log")
        axis.set_ylabel(label)
        axis.grid(axis="y", alpha=0.3, which="both")
        axis.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
